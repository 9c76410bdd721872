/** RFC 9591 Appendix E: the five RFC ciphersuites, through Glacis's suite layer. */
import { describe, it } from 'vitest';
import { RFC_FILES, type SigningVector, vectorJson } from './load-vectors.js';
import { checkSigningVector } from './signing-vector.js';

describe('RFC 9591 Appendix E signing vectors', () => {
  for (const [file, id] of Object.entries(RFC_FILES)) {
    it(`${id} (${file})`, () => {
      checkSigningVector(id, vectorJson<SigningVector>(`cfrg-draft-irtf-cfrg-frost/${file}`));
    });
  }
});
