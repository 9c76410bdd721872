// The parties' own PSBT reader (protocol intent/bitcoin-psbt.ts), so the console shows what they sign.

export { isProtocolError } from '../../protocol/src/errors.js';
export { parseBitcoinPsbt, summarizeBitcoinPsbt } from '../../protocol/src/intent/bitcoin-psbt.js';
