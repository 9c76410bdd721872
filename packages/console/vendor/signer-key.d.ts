/** Types of vendor/signer-key.js (@noble/hashes scrypt, @noble/ciphers XChaCha20-Poly1305). */

export interface ScryptOptions {
  N: number;
  r: number;
  p: number;
  dkLen?: number;
  maxmem?: number;
  asyncTick?: number;
  onProgress?: (progress: number) => void;
}
export declare function scrypt(password: Uint8Array, salt: Uint8Array, opts: ScryptOptions): Uint8Array;
/** The same, yielding to the event loop every `asyncTick` ms so a page stays responsive. */
export declare function scryptAsync(password: Uint8Array, salt: Uint8Array, opts: ScryptOptions): Promise<Uint8Array>;

export interface Aead {
  encrypt(plaintext: Uint8Array): Uint8Array;
  /** Throws when the tag does not verify. */
  decrypt(ciphertext: Uint8Array): Uint8Array;
}
export declare function xchacha20poly1305(key: Uint8Array, nonce: Uint8Array, associatedData?: Uint8Array): Aead;
