/**
 * The fake Ollama's embedding model: deterministic and meaningful enough for retrieval tests.
 * Signed feature hashing of lowercased, crudely stemmed words without stop words (weight 1)
 * and word bigrams (weight 0.5), L2-normalized, so texts that share words have a high cosine
 * similarity and unrelated texts are near 0 — like a real model, "when does it open?" is close
 * to "it opens at nine". Importable without a server, e.g. to check what a vector store holds.
 */
const STOP = new Set(
  'a an the is are was were be been do does did of to in on at by for with and or but it its this that these those what when where which who how why i you we they he she me my our your their'.split(' '),
);

/** Strips a few English endings so "opens", "opening" and "open" share a feature. */
function stem(w: string): string {
  for (const end of ['ing', 'ed', 'es', 's']) {
    if (w.length > end.length + 2 && w.endsWith(end)) return w.slice(0, -end.length);
  }
  return w;
}

export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function fakeEmbedding(text: string, dims = 256): number[] {
  const vec = new Array<number>(dims).fill(0);
  const words = (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => !STOP.has(w)).map(stem);
  const add = (feature: string, weight: number) => {
    const h = fnv1a(feature);
    vec[h % dims]! += (fnv1a(feature, 0x9747b28c) & 1 ? 1 : -1) * weight;
  };
  words.forEach((w, i) => {
    add(w, 1);
    if (i > 0) add(`${words[i - 1]} ${w}`, 0.5);
  });
  const norm = Math.hypot(...vec);
  if (norm === 0) {
    vec[0] = 1; // a real model never returns a zero vector; keep cosine defined
    return vec;
  }
  return vec.map((v) => v / norm);
}
