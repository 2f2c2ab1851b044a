// SPDX-License-Identifier: Apache-2.0
/**
 * Fabric's signature policy language (common/policydsl, what `peer lifecycle` and collection configs read):
 * `AND(...)`, `OR(...)`, `OutOf(n, ...)` over principals `'MSPID.role'` (role member, admin, client, peer or
 * orderer), compiled to a `common.SignaturePolicyEnvelope` whose identities are MSP role principals, in order of first
 * appearance.
 */
import { common, msp } from '@hyperledger/fabric-protos';

/** A principal of a policy: an MSP and a role in it. */
export interface PolicyPrincipal {
    readonly mspId: string;
    readonly role: 'member' | 'admin' | 'client' | 'peer' | 'orderer';
}

/** A parsed policy: its envelope (serialized) and its principals. */
export interface SignaturePolicy {
    /** The policy as written. */
    readonly text: string;
    /** Serialized common.SignaturePolicyEnvelope. */
    readonly envelope: Uint8Array;
    readonly principals: readonly PolicyPrincipal[];
    /** Whether every n-out-of rule has n = 1 (an OR concatenation, what a collection's member policy must be). */
    readonly orOnly: boolean;
}

const ROLE_TYPES: Readonly<Record<PolicyPrincipal['role'], ReturnType<InstanceType<typeof msp.MSPRole>['getRole']>>> = {
    member: msp.MSPRole.MSPRoleType.MEMBER,
    admin: msp.MSPRole.MSPRoleType.ADMIN,
    client: msp.MSPRole.MSPRoleType.CLIENT,
    peer: msp.MSPRole.MSPRoleType.PEER,
    orderer: msp.MSPRole.MSPRoleType.ORDERER,
};

const PRINCIPAL = /^([A-Za-z0-9.-]+)\.(admin|member|client|peer|orderer)$/;

type Rule = InstanceType<typeof common.SignaturePolicy>;

/** A policy string that is not valid policy language. */
export class PolicySyntaxError extends Error {}

class Parser {
    private position = 0;
    public readonly principals: PolicyPrincipal[] = [];
    private readonly principalIndex = new Map<string, number>();
    public orOnly = true;

    public constructor(private readonly text: string) {}

    public parseAll(): Rule {
        const rule = this.parseRule();
        this.skipSpace();
        if (this.position !== this.text.length) {
            throw this.error(`unexpected '${this.text.slice(this.position)}' after the policy`);
        }
        return rule;
    }

    private parseRule(): Rule {
        this.skipSpace();
        const quote = this.text[this.position];
        if (quote === "'" || quote === '"') {
            return this.parsePrincipal(quote);
        }
        const name = /^[A-Za-z]+/.exec(this.text.slice(this.position))?.[0];
        if (name === undefined) {
            throw this.error(`expected AND, OR, OutOf or a quoted principal at position ${this.position}`);
        }
        this.position += name.length;
        this.expect('(');
        const args: (Rule | number)[] = [];
        for (;;) {
            this.skipSpace();
            const number = /^\d+/.exec(this.text.slice(this.position))?.[0];
            if (number !== undefined && name.toLowerCase() === 'outof' && args.length === 0) {
                this.position += number.length;
                args.push(Number(number));
            } else {
                args.push(this.parseRule());
            }
            this.skipSpace();
            if (this.text[this.position] === ',') {
                this.position++;
                continue;
            }
            this.expect(')');
            break;
        }
        return this.combine(name, args);
    }

    /** AND, OR or OutOf over parsed arguments. */
    private combine(name: string, args: readonly (Rule | number)[]): Rule {
        const rules = args.filter((arg): arg is Rule => typeof arg !== 'number');
        switch (name.toLowerCase()) {
            case 'and':
                return this.nOutOf(rules.length, rules, args.length);
            case 'or':
                return this.nOutOf(1, rules, args.length);
            case 'outof': {
                const n = args[0];
                if (typeof n !== 'number' || rules.length !== args.length - 1) {
                    throw this.error('OutOf takes a number, then principals or policies');
                }
                if (n < 1 || n > rules.length) {
                    throw this.error(`invalid t-out-of-n predicate, t ${n}, n ${rules.length}`);
                }
                return this.nOutOf(n, rules, rules.length);
            }
            default:
                throw this.error(`unrecognized token '${name}' in policy string`);
        }
    }

    private nOutOf(n: number, rules: Rule[], argumentCount: number): Rule {
        if (rules.length !== argumentCount || rules.length === 0) {
            throw this.error('AND and OR take principals or policies');
        }
        if (n !== 1) {
            this.orOnly = false;
        }
        const nOutOf = new common.SignaturePolicy.NOutOf();
        nOutOf.setN(n);
        nOutOf.setRulesList(rules);
        const rule = new common.SignaturePolicy();
        rule.setNOutOf(nOutOf);
        return rule;
    }

    private parsePrincipal(quote: string): Rule {
        const end = this.text.indexOf(quote, this.position + 1);
        if (end < 0) {
            throw this.error('unterminated principal');
        }
        const text = this.text.slice(this.position + 1, end);
        this.position = end + 1;
        const match = PRINCIPAL.exec(text);
        if (match === null) {
            throw this.error(`error parsing principal ${text}`);
        }
        const principal: PolicyPrincipal = { mspId: match[1] ?? '', role: (match[2] ?? 'member') as PolicyPrincipal['role'] };
        let index = this.principalIndex.get(text);
        if (index === undefined) {
            index = this.principals.length;
            this.principals.push(principal);
            this.principalIndex.set(text, index);
        }
        const rule = new common.SignaturePolicy();
        rule.setSignedBy(index);
        return rule;
    }

    private expect(char: string): void {
        this.skipSpace();
        if (this.text[this.position] !== char) {
            throw this.error(`expected '${char}' at position ${this.position}`);
        }
        this.position++;
    }

    private skipSpace(): void {
        while (/\s/.test(this.text[this.position] ?? '')) {
            this.position++;
        }
    }

    private error(message: string): PolicySyntaxError {
        return new PolicySyntaxError(message);
    }
}

/** Parses a signature policy string, e.g. `OR('Org1MSP.member','Org2MSP.member')`; throws {@link PolicySyntaxError}. */
export function parseSignaturePolicy(text: string): SignaturePolicy {
    const parser = new Parser(text);
    const rule = parser.parseAll();
    const envelope = new common.SignaturePolicyEnvelope();
    envelope.setVersion(0);
    envelope.setRule(rule);
    envelope.setIdentitiesList(parser.principals.map((principal) => {
        const role = new msp.MSPRole();
        role.setMspIdentifier(principal.mspId);
        role.setRole(ROLE_TYPES[principal.role]);
        const out = new msp.MSPPrincipal();
        out.setPrincipalClassification(msp.MSPPrincipal.Classification.ROLE);
        out.setPrincipal(role.serializeBinary());
        return out;
    }));
    return { text, envelope: envelope.serializeBinary(), principals: parser.principals, orOnly: parser.orOnly };
}
