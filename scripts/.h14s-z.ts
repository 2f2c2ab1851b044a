import { readFileSync } from 'node:fs';
import { deflateRawSync, brotliCompressSync, constants } from 'node:zlib';
import { ensureCryptoMaterial } from '../network/devnet/src';
const dir = process.argv[2]!;
const content = readFileSync(`${dir}/ledger/mychannel.blocks`);
const material = ensureCryptoMaterial(dir, 3);
const dict = Buffer.concat(material.orgs.flatMap((o) => [Buffer.from(o.peer.serialized), Buffer.from(o.caCertificate.toString())]));
let offset = 0; let raw = 0, d = 0, dd = 0, br = 0, n = 0;
while (offset + 36 <= content.length) {
  const len = content.readUInt32BE(offset);
  const bytes = content.subarray(offset + 36, offset + 36 + len); offset += 36 + len; n++;
  raw += len; d += deflateRawSync(bytes).length; dd += deflateRawSync(bytes, { dictionary: dict }).length;
  br += brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }).length;
}
console.log({ blocks: n, dict: dict.length, raw, deflate: d, deflateDict: dd, brotli5: br });
{
let offset = 0; const levels = [1, 3, 6]; const sizes = [0, 0, 0]; const times = [0n, 0n, 0n];
while (offset + 36 <= content.length) {
  const len = content.readUInt32BE(offset);
  const bytes = content.subarray(offset + 36, offset + 36 + len); offset += 36 + len;
  levels.forEach((level, i) => { const t = process.hrtime.bigint(); sizes[i]! += deflateRawSync(bytes, { dictionary: dict, level }).length; times[i]! += process.hrtime.bigint() - t; });
}
console.log(levels.map((l, i) => ({ l, size: sizes[i], ms: Number(times[i]!) / 1e6 })));
}
