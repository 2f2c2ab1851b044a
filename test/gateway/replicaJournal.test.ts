// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { JournalError, ReplicaJournal } from '../../gateway/src/executor/replicaJournal';
import type { SealedReplica } from '../../gateway/src/executor/replicaJournal';

const work = mkdtempSync(path.join(tmpdir(), 'lw-journal-'));
afterAll(() => { rmSync(work, { recursive: true, force: true }); });

const replica = (taskId: string, executorId: string, sealedAt: number): SealedReplica => ({
    taskId,
    jobId: 'job',
    executorId,
    result: Buffer.from('168\n').toString('base64'),
    salt: Buffer.alloc(32, 7).toString('base64'),
    signatures: { input: 'a', result: 'b' },
    commitment: 'ab'.repeat(32),
    sealedAt,
});

describe('ReplicaJournal', () => {
    it('keeps sealed replicas across instances (a restart) until they are removed', () => {
        const dir = path.join(work, 'restart');
        const before = new ReplicaJournal(dir);
        before.seal(replica('job-2', 'org1-a', 20));
        before.seal(replica('job-1', 'org1-a', 10));
        before.seal(replica('job-1', 'org2-a', 30));
        // No temporary files are left behind.
        expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);

        const after = new ReplicaJournal(dir);
        expect(after.pending().map((r) => `${r.executorId}:${r.taskId}`)).toEqual(['org1-a:job-1', 'org1-a:job-2', 'org2-a:job-1']);
        expect(after.pending(['org2-a']).map((r) => r.taskId)).toEqual(['job-1']);
        expect(after.find('org1-a', 'job-2')).toEqual(replica('job-2', 'org1-a', 20));
        expect(after.find('org3-a', 'job-2')).toBeUndefined();

        after.remove('org1-a', 'job-1');
        after.remove('org1-a', 'job-1');
        expect(new ReplicaJournal(dir).pending().map((r) => `${r.executorId}:${r.taskId}`)).toEqual(['org1-a:job-2', 'org2-a:job-1']);
    });

    it('overwrites a replica sealed again for the same task and executor', () => {
        const journal = new ReplicaJournal(path.join(work, 'again'));
        journal.seal(replica('job-1', 'org1-a', 1));
        journal.seal({ ...replica('job-1', 'org1-a', 2), commitment: 'cd'.repeat(32) });
        expect(journal.pending()).toHaveLength(1);
        expect(journal.find('org1-a', 'job-1')?.commitment).toBe('cd'.repeat(32));
    });

    it('refuses a damaged journal file with a typed error naming it', () => {
        const dir = path.join(work, 'damaged');
        const journal = new ReplicaJournal(dir);
        writeFileSync(path.join(dir, 'x.replica.json'), '{"taskId": 1}');
        expect(() => journal.pending()).toThrow(JournalError);
        writeFileSync(path.join(dir, 'x.replica.json'), 'not json');
        expect(() => journal.pending()).toThrow(/x\.replica\.json is not JSON/);
    });
});
