/**
 * The fake Ollama's embedding model: deterministic and meaningful enough for retrieval tests.
 * Signed feature hashing of lowercased words (weight 1) and word bigrams (weight 0.5),
 * L2-normalized, so texts that share words have a high cosine similarity and unrelated texts
 * are near 0. Importable without a server, e.g. to check what a vector store holds.
 */
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
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
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
