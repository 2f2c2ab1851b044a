// SPDX-License-Identifier: Apache-2.0
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Chain, expectCode } from './harness';
import type { Actor } from './harness';
import { HOST_IMPORTS, wat } from '../wasm/wat';

/** programs:Store and programs:Get through the real fabric-shim runtime. */
describe('programs contract', () => {
    let chain: Chain;
    let publisher: Actor;
    let poor: Actor;
    let validator: Buffer;

    beforeAll(async () => {
        chain = await Chain.start();
        publisher = chain.actor({ mspId: 'Org1MSP', name: 'publisher' });
        poor = chain.actor({ mspId: 'Org2MSP', name: 'poor' });
        await chain.mint(publisher, 1_000n);
        // A 70 000-byte data segment: the program spans two chunks.
        validator = await wat(`(module ${HOST_IMPORTS} (memory 2 2) (data (i32.const 0) "${'x'.repeat(70_000)}") (func (export "validate") (result i32) (i32.const 1)))`);
    });
    afterAll(async () => {
        await chain.stop();
    });

    it('stores a program once per hash, in chunks, charging 1 credit per started KiB', async () => {
        const sha256 = createHash('sha256').update(validator).digest('hex');
        const before = await chain.balance(publisher);
        const stored = await chain.submit(publisher, 'programs:Store', [validator.toString('base64')]);
        const fee = Math.ceil(validator.length / 1024);
        expect(stored).toMatchObject({ uri: `ledger://${sha256}`, sha256, size: validator.length, chunks: 2, entryPoints: ['validate'], storedBy: publisher.account, fee: String(fee) });
        expect(await chain.balance(publisher)).toBe(before - BigInt(fee));
        expect(chain.lastEvent()).toEqual({ name: 'ProgramStored', payload: { uri: `ledger://${sha256}`, sha256, size: validator.length, storedBy: publisher.account, fee: String(fee) } });
        const got = await chain.evaluate(chain.anyone(), 'programs:Get', [sha256]);
        expect(Buffer.from(got.program as string, 'base64').equals(validator)).toBe(true);
        const again = await expectCode(chain.submit(publisher, 'programs:Store', [validator.toString('base64')]), 'ALREADY_EXISTS');
        expect(again.detail).toContain(`ledger://${sha256}`);
        expect(await chain.balance(publisher)).toBe(before - BigInt(fee));
    });

    it('refuses at store time what the runtime would not admit, with typed errors, charging nothing', async () => {
        const before = await chain.balance(publisher);
        const cases: [string, RegExp][] = [
            [`(module (memory 1 1) (func (export "validate") (result i32) (i32.trunc_f32_s (f32.const 1))))`, /float/],
            [`(module (memory 1 1) (func $s) (start $s))`, /start function/],
            [`(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) (memory 1 1))`, /imports wasi_snapshot_preview1.fd_write/],
            [`(module (memory 1))`, /no maximum/],
        ];
        for (const [text, reason] of cases) {
            const err = await expectCode(chain.submit(publisher, 'programs:Store', [(await wat(text)).toString('base64')]), 'PROGRAM_REFUSED');
            expect(err.detail).toMatch(reason);
        }
        await expectCode(chain.submit(publisher, 'programs:Store', [Buffer.alloc(256 * 1024 + 1).toString('base64')]), 'LIMIT_EXCEEDED');
        await expectCode(chain.submit(publisher, 'programs:Store', ['not base64!']), 'INVALID_ARGUMENT');
        expect(await chain.balance(publisher)).toBe(before);
    });

    it('refuses a caller who cannot pay the fee, and reports unknown programs as NOT_FOUND', async () => {
        const small = await wat(`(module (memory 1 1) (func (export "validate") (result i32) (i32.const 0)))`);
        await expectCode(chain.submit(poor, 'programs:Store', [small.toString('base64')]), 'INSUFFICIENT_FUNDS');
        await expectCode(chain.evaluate(chain.anyone(), 'programs:Get', ['0'.repeat(64)]), 'NOT_FOUND');
        await expectCode(chain.evaluate(chain.anyone(), 'programs:Get', ['xyz']), 'INVALID_ARGUMENT');
    });
});
