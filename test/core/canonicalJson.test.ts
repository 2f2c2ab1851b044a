// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import { canonicalJson } from '../../chaincode/src/core/canonicalJson';

describe('canonicalJson', () => {
    it('sorts keys by UTF-16 code units', () => {
        expect(canonicalJson({ b: 1, a: [true, null], é: 'x', Z: 2 })).toBe('{"Z":2,"a":[true,null],"b":1,"é":"x"}');
    });
});
