/**
 * Seals secrets (platform tokens) at rest with AES-256-GCM. Every sealed value records the id of
 * the key that sealed it, so ENCRYPTION_KEY can be rotated: the new key seals, earlier keys listed
 * in ENCRYPTION_OLD_KEYS still open, and rows are re-sealed with the current key as they are read.
 *
 * A key's id is its fingerprint (the first 16 hex digits of SHA-256 of the key bytes), so the id
 * never depends on how an operator labels the key; labels in ENCRYPTION_OLD_KEYS are accepted too.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';

export interface SealedValue {
  keyId: string;
  /** `v1.` + base64(iv | tag | ciphertext). */
  ciphertext: string;
}

export class SealingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealingError';
  }
}

export function keyFingerprint(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

function decodeKey(b64: string, what: string): Buffer {
  const key = Buffer.from(b64.trim(), 'base64');
  if (key.length !== 32) throw new SealingError(`${what} must be a 32-byte key in base64`);
  return key;
}

export class TokenSealer {
  readonly currentKeyId: string;
  private readonly current: Buffer;
  /** Every key that may open a value, by fingerprint and by operator label. */
  private readonly openers = new Map<string, Buffer>();

  constructor(currentKey: Buffer, oldKeys: Array<{ label?: string; key: Buffer }> = []) {
    if (currentKey.length !== 32) throw new SealingError('the encryption key must be 32 bytes');
    this.current = currentKey;
    this.currentKeyId = keyFingerprint(currentKey);
    this.openers.set(this.currentKeyId, currentKey);
    for (const { label, key } of oldKeys) {
      if (key.length !== 32) throw new SealingError('every old encryption key must be 32 bytes');
      this.openers.set(keyFingerprint(key), key);
      if (label && !this.openers.has(label)) this.openers.set(label, key);
    }
  }

  /**
   * From ENCRYPTION_KEY (base64) and ENCRYPTION_OLD_KEYS ("label:base64,label:base64"; a bare
   * "base64" entry is accepted as well).
   */
  static fromConfig(encryptionKey: string | undefined, oldKeys?: string): TokenSealer {
    if (!encryptionKey) throw new SealingError('ENCRYPTION_KEY is required to store tokens');
    const old: Array<{ label?: string; key: Buffer }> = [];
    for (const entry of (oldKeys ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      const colon = entry.indexOf(':');
      const label = colon > 0 ? entry.slice(0, colon) : undefined;
      old.push({ label, key: decodeKey(colon > 0 ? entry.slice(colon + 1) : entry, 'ENCRYPTION_OLD_KEYS entry') });
    }
    return new TokenSealer(decodeKey(encryptionKey, 'ENCRYPTION_KEY'), old);
  }

  /**
   * `context` is bound into the tag (AES-GCM additional data): a value sealed for one row cannot
   * be pasted into another row (another tenant) and still open.
   */
  seal(plaintext: string, context: string): SealedValue {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return { keyId: this.currentKeyId, ciphertext: `${VERSION}.${Buffer.concat([iv, tag, body]).toString('base64')}` };
  }

  open(sealed: SealedValue, context: string): string {
    const key = this.openers.get(sealed.keyId);
    if (!key) throw new SealingError(`no encryption key with id ${sealed.keyId} is configured (add it to ENCRYPTION_OLD_KEYS)`);
    const [version, payload] = sealed.ciphertext.split('.', 2);
    if (version !== VERSION || !payload) throw new SealingError('unknown sealed value format');
    const raw = Buffer.from(payload, 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new SealingError('sealed value is truncated');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SealingError('sealed value failed authentication (wrong key or tampered)');
    }
  }

  /** True when `keyId` is not the current key, i.e. the value should be re-sealed. */
  isStale(keyId: string): boolean {
    return keyId !== this.currentKeyId;
  }
}
