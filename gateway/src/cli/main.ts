// SPDX-License-Identifier: Apache-2.0
/**
 * `ledgerwork`: the organization CLI. Parses the command line, loads the one command it names,
 * and maps what goes wrong to exit codes a script can rely on:
 *
 * | exit | meaning |
 * | --- | --- |
 * | 0 | done |
 * | 1 | the chaincode refused (`error CODE: message`), or the job failed |
 * | 2 | usage or configuration error (with the usage line) |
 * | 3 | the network could not be reached or did not answer |
 * | 70 | unexpected: a bug (stack trace) |
 */
import { GatewayCode } from '../client/codes';
import { ChaincodeError, CommitFailedError, ConfigError, LedgerworkGatewayError, TransportError } from '../client/errors';
import { DirectoryError } from '../directories';
import { DecomposeError } from '../publisher/decompose';
import { IncompletePublishError, JobSpecError } from '../publisher/publish';
import { StoreError } from '../publisher/publisher';
import { Flags, JobFailedError, UsageError, parseArgs } from './args';
import { CONNECTION_FLAGS, createContext } from './context';
import type { CommandModule } from './context';
import { Output, processIo } from './output';
import type { CliIo } from './output';

/** Exit codes of the CLI. */
export const ExitCode = { Ok: 0, Refused: 1, Usage: 2, Unreachable: 3, Bug: 70 } as const;

interface CommandSpec {
    readonly summary: string;
    readonly usage: readonly string[];
    readonly flags: readonly string[];
    readonly booleans?: readonly string[];
    readonly network: boolean;
    readonly details?: string;
    readonly examples: readonly string[];
    readonly load: () => Promise<CommandModule>;
}

const COMMANDS: Readonly<Record<string, CommandSpec>> = {
    devnet: {
        summary: 'start and stop a local devnet (ledgerwork-devnet)',
        usage: ['ledgerwork devnet up [--orgs N] [--port P] [--dir D] [--chaincode NAME=FOLDER] [--detach] [--json]', 'ledgerwork devnet down [--dir D]', 'ledgerwork devnet env [--dir D] [--org N] [--user NAME] [--json]'],
        flags: [],
        network: false,
        details: 'Every argument after `devnet` goes to the devnet\'s own CLI (network/devnet/README.md).',
        examples: ['ledgerwork devnet up --chaincode ledgerwork=./chaincode --detach', 'eval "$(ledgerwork devnet env --org 2)"', 'ledgerwork devnet down'],
        load: () => import('./commands/devnet'),
    },
    executor: {
        summary: 'register, inspect and run executors',
        usage: [
            'ledgerwork executor register ID [--skills a,b] [--mode active|passive] [--capacity N]',
            'ledgerwork executor list [--shard MSP_ID]',
            'ledgerwork executor show ID',
            'ledgerwork executor run --id ID [--id ID2] [--job JOB…] [--checkpoint FILE | --state-dir DIR] [--from-block N] [--no-follow] [--register] [--skills a,b] [--concurrency N] [--poll 1s] [--until-done]',
        ],
        flags: ['skills', 'mode', 'capacity', 'shard', 'id', 'job', 'register', 'concurrency', 'poll', 'until-done', 'limit', 'checkpoint', 'state-dir', 'from-block', 'no-follow', 'content-ca'],
        booleans: ['register', 'until-done', 'no-follow'],
        network: true,
        details: [
            '`run` finds work by following the chaincode events from a checkpoint (--checkpoint FILE, default',
            '~/.ledgerwork/<hash of channel, chaincode and ids>.checkpoint, or under --state-dir): open jobs with tasks',
            'to claim and ranked jobs where its executors hold ranks; after a restart it resumes from the checkpoint.',
            'A fresh checkpoint starts at the next block (--from-block N to replay). Jobs named with --job are polled',
            'to their end; with --job it follows events only when --checkpoint or --state-dir is given. --concurrency',
            'programs run at once; the next tasks are claimed while they run (each executor within its capacity,',
            'only tasks whose shard, skills and reputation it meets). Refusals that retrying cannot change stop that',
            'task; others back off. Tasks its executors still hold under a live lease are resumed; expired leases',
            'and deadlines of the jobs it waits on are swept. Ranks run concurrently up to each executor\'s capacity.',
            '--content-ca FILE trusts that PEM issuer for other organizations\' https:// content servers.',
            'With --register the executor gets capacity 2 × --concurrency. SIGINT/SIGTERM stops claiming and finishes work in flight; a second',
            'signal exits at once, leaving claims to expire (nothing is half-submitted). --until-done exits when',
            'every known job has ended. Tasks of quorum/credibility jobs run as replicas: the result and salt are written',
            'to <state dir>/replicas (default ~/.ledgerwork/replicas) before the commitment is sent, and a restarted',
            'executor reveals what it committed there before it stopped.',
        ].join('\n'),
        examples: ['ledgerwork executor register org1-a --skills wasm --capacity 4', 'ledgerwork executor list --json', 'ledgerwork executor run --id org1-a --job primes-1 --concurrency 2', 'ledgerwork executor run --id org1-a --id org1-b --state-dir /var/lib/ledgerwork'],
        load: () => import('./commands/executor'),
    },
    job: {
        summary: 'publish, follow and collect jobs',
        usage: [
            'ledgerwork job publish --program FILE.wasm [--merge FILE.wasm] (--range lo:hi --tasks N | --inputs DIR | --jsonl FILE) --reward N',
            '    [--merge-reward N] [--mode separate|combined] [--ranked --shards Org1MSP,Org2MSP] [--deadline 2h] [--lease 10m]',
            '    [--verify signature|quorum:K|credibility:T [--max-replicas N]] [--validator FILE.wasm --fuel N] [--merge-verify reexecute [--merge-fuel N]]',
            '    [--key-scope task|job] [--store DIR | --serve] [--id JOB] [--description TEXT] [--skills a,b] [--max-attempts N]',
            'ledgerwork job cancel JOB',
            'ledgerwork job status JOB',
            'ledgerwork job watch JOB [--poll 1s]',
            'ledgerwork job result JOB [--out FILE] [--wait]',
            'ledgerwork job list [--publisher ACCOUNT]',
        ],
        flags: [
            'program', 'merge', 'range', 'tasks', 'inputs', 'jsonl', 'reward', 'merge-reward', 'mode', 'ranked', 'shards', 'deadline', 'lease',
            'key-scope', 'store', 'serve', 'id', 'description', 'skills', 'min-reputation', 'max-attempts', 'batch', 'out', 'poll', 'publisher', 'wait',
            'verify', 'max-replicas', 'validator', 'fuel', 'merge-verify', 'merge-fuel', 'serve-host', 'serve-port', 'serve-url', 'serve-cert', 'serve-key',
        ],
        booleans: ['ranked', 'serve', 'wait'],
        network: true,
        details: [
            'Bundles go to --store DIR (file:// URIs, default ./.ledgerwork/store below the current directory; files are',
            'named by their SHA-256 and never overwritten) or, with --serve, to a content server this process runs until',
            'the job ends (--serve-host ADDR, default 127.0.0.1, and --serve-port N to bind; --serve-url URL names it in the',
            'URIs when executors of other hosts reach it under another name; --serve-cert/--serve-key PEM files serve HTTPS).',
            'Everything is checked before the first transaction (id, files, programs against the executors\'',
            'admission rules, the channel\'s task limit, the shards); bundles are kept only for batches the ledger accepted.',
            'A publish that stops half-way (killed, out of credits, network down) is resumed by running the same command',
            'again with the same --id (or refunded with `job cancel`). `watch` sweeps what holds the job up (expired',
            'claims, the deadline, overdue ranks) and exits 0 when the result is there (a ranked job\'s target filed, every',
            'task of an open job completed), 1 when it is cancelled, expires or has failed tasks. `result` prints a ranked',
            'job\'s target bytes, or every accepted result of an open job. `list` shows what each job locked (ESCROW: task',
            'and merge rewards).',
            '--verify quorum:K runs every task on K executors of K different organizations and accepts the value they',
            'agree on, adding replicas on disagreement up to --max-replicas (default 2K); credibility:T adds replicas',
            'until the agreeing executors\' credibility reaches T (default 5 replicas). A replicated job escrows',
            'reward × max replicas per task and refunds what is not paid.',
            '--validator FILE stores that program on the ledger (if it is not there yet) and has the endorsing peers run',
            'its `validate` on every result with --fuel N (required): results it turns down are rejected like a bad',
            'signature. With --merge-verify reexecute the --merge FILE is a program on the ledger (exporting `merge`) that',
            'the endorsers re-run on every filed merge (--merge-fuel N, default 1000000); merges then carry no signature.',
        ].join('\n'),
        examples: [
            'ledgerwork job publish --id primes-1 --program primes.wasm --merge primes.wasm --range 0:10000000 --tasks 100 --reward 10 --merge-reward 2 --ranked --shards Org1MSP,Org2MSP',
            'ledgerwork job publish --id primes-2 --program primes.wasm --range 0:1000000 --tasks 8 --reward 10 --verify quorum:2 --max-replicas 4',
            'ledgerwork job watch primes-1',
            'ledgerwork job result primes-1 --out count.txt',
        ],
        load: () => import('./commands/job'),
    },
    program: {
        summary: 'store validators and merge programs on the ledger',
        usage: ['ledgerwork program store FILE.wasm', 'ledgerwork program show SHA256|ledger://SHA256'],
        flags: [],
        network: true,
        details: [
            '`store` puts a program the chaincode itself runs (a validator exporting `validate`, or a merge exporting',
            '`merge`) on the ledger under its SHA-256 and prints its URI, ledger://<sha256>. The chaincode admits only',
            'integer-only modules without a start function that import nothing but ledgerwork.read_input, read_result',
            'and write_output and declare a memory maximum of at most 64 pages; it charges 1 credit per started KiB.',
            'A program already on the ledger is not stored or paid for again.',
        ].join('\n'),
        examples: ['ledgerwork program store examples/build/primes-validator.wasm', 'ledgerwork program show ledger://<sha256>'],
        load: () => import('./commands/program'),
    },
    task: {
        summary: 'list and inspect tasks',
        usage: ['ledgerwork task list --job JOB [--state published|claimed|assigned|completed|failed|cancelled] [--limit N]', 'ledgerwork task show TASK'],
        flags: ['job', 'state', 'limit'],
        network: true,
        examples: ['ledgerwork task list --job primes-1 --state claimed', 'ledgerwork task show primes-1-7 --json'],
        load: () => import('./commands/task'),
    },
    rewards: {
        summary: 'payouts to an executor',
        usage: ['ledgerwork rewards EXECUTOR [--limit N]'],
        flags: ['limit'],
        network: true,
        examples: ['ledgerwork rewards org1-a'],
        load: () => import('./commands/rewards'),
    },
    balance: {
        summary: 'an account\'s credits (default: your own)',
        details: 'balance is what the account can spend now; "locked in escrow now" is what its live jobs still hold (unfinished tasks, unfiled merges; per job); escrowed, refunded and earned are totals over its history (net spent = escrowed − refunded).',
        usage: ['ledgerwork balance [ACCOUNT]'],
        flags: [],
        network: true,
        examples: ['ledgerwork balance', 'ledgerwork balance 3f9a…e1 --json'],
        load: () => import('./commands/balance'),
    },
    view: {
        summary: 'a live, read-only web view of jobs, merge trees and organizations',
        usage: ['ledgerwork view [--port P] [--host H] [--from-block N]'],
        flags: ['port', 'host', 'from-block'],
        network: true,
        details: [
            'Serves http://127.0.0.1:8370/ (--port, --host to change; --port 0 picks a free one) until Ctrl-C:',
            'Jobs, a job\'s merge tree or task grid, Organizations and executors, Events. Pages update live from',
            'the chaincode events (read from block 0, or --from-block N); each page is also complete without them.',
            'It only reads: every query and event stream uses the connection settings as any other command.',
        ].join('\n'),
        examples: ['ledgerwork view', 'ledgerwork view --port 9000 --host 0.0.0.0'],
        load: () => import('./commands/view'),
    },
    mint: {
        summary: 'create credits (admin only)',
        usage: ['ledgerwork mint AMOUNT [--account ACCOUNT]'],
        flags: ['account'],
        network: true,
        details: [
            'Without --account the credits go to your own (the admin\'s) account. To fund another identity, ask it',
            'for its account (`ledgerwork whoami` run as that identity prints it) and mint to that account.',
            'One mint is at most 999999999999999999 (below 10^18) credits; a balance is the sum of what it received',
            'and may grow past that.',
        ].join('\n'),
        examples: ['ledgerwork whoami --account   # as the user to fund: prints its account, e.g. 3f9a…e1', 'ledgerwork mint 10000 --account 3f9a…e1   # as the admin'],
        load: () => import('./commands/mint'),
    },
    whoami: {
        summary: 'your identity: account, MSP id, admin or not',
        usage: ['ledgerwork whoami [--account]'],
        flags: ['account'],
        booleans: ['account'],
        network: true,
        details: 'The account is what `balance`, `job list --publisher` and `mint --account` take. --account prints only it.',
        examples: ['ledgerwork whoami', 'ledgerwork whoami --account'],
        load: () => import('./commands/whoami'),
    },
    sweep: {
        summary: 'settle expired claims, jobs past their deadline and overdue ranks (anyone may)',
        usage: ['ledgerwork sweep [--job JOB]'],
        flags: ['job'],
        network: true,
        details: [
            'The chaincode enforces time only when asked: an abandoned claim stays claimed after its lease and a job',
            'stays open after its deadline until a sweep. `job watch` and executors sweep what they wait on; this',
            'command sweeps the whole channel, or with --job what holds up that job (its overdue ranks too).',
        ].join('\n'),
        examples: ['ledgerwork sweep', 'ledgerwork sweep --job primes-1 --json'],
        load: () => import('./commands/sweep'),
    },
};

const GLOBAL_USAGE = 'usage: ledgerwork <command> [options]   (ledgerwork help <command>)';

function overview(): string {
    const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
    return [
        'ledgerwork — verifiable distributed computing on Hyperledger Fabric',
        '',
        GLOBAL_USAGE,
        '',
        'commands:',
        ...Object.entries(COMMANDS).map(([name, spec]) => `  ${name.padEnd(width)}  ${spec.summary}`),
        '',
        'options of every command:',
        '  --json                 machine-readable output on stdout (errors as {"error":{…}} on stderr)',
        '  --help                 this text, or a command\'s',
        '  connection: --config FILE (or LEDGERWORK_CONFIG), --peer-endpoint, --peer-host-alias, --tls-cert-path,',
        '    --msp-id, --cert-path, --key-path, --channel-name, --chaincode-name; flags win over the environment',
        '    (PEER_ENDPOINT, TLS_CERT_PATH, MSP_ID, CERT_PATH, KEY_PATH, …), which wins over the config file.',
        '',
        'exit codes: 0 ok, 1 refused by the chaincode or job failed, 2 usage/config, 3 network unreachable, 70 bug',
        '  (every exit path of every command: docs/errors.md)',
        '',
        'files: job publish stores bundles in ./.ledgerwork/store (or --store DIR); executor run keeps its checkpoint',
        '  in ~/.ledgerwork (or --checkpoint FILE / --state-dir DIR).',
        '',
        'examples:',
        '  eval "$(ledgerwork devnet env)"',
        '  ledgerwork balance',
        '  ledgerwork job status primes-1 --json',
        '',
    ].join('\n');
}

function commandHelp(name: string, spec: CommandSpec): string {
    return [
        `ledgerwork ${name} — ${spec.summary}`,
        '',
        'usage:',
        ...spec.usage.map((u) => `  ${u}`),
        ...(spec.details === undefined ? [] : ['', spec.details]),
        '',
        'examples:',
        ...spec.examples.map((e) => `  ${e}`),
        '',
    ].join('\n');
}

/**
 * Runs `ledgerwork` with `argv` (without node and script) and resolves to the exit code. `io`
 * replaces the process's streams, environment, clock and signal (tests run commands in process).
 */
export async function main(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
    const fullIo: CliIo = { ...processIo(), ...io };
    const json = argv.includes('--json');
    const [first, ...rest] = argv;
    const early = helpOrDispatch(first, rest, fullIo);
    if (early !== undefined) {
        return early;
    }
    const name = first ?? '';
    const spec = COMMANDS[name];
    if (spec === undefined) {
        return fail(new UsageError(`unknown command ${JSON.stringify(name)}`), json, fullIo, GLOBAL_USAGE);
    }
    if (name === 'devnet') {
        return runDevnet(spec, rest, fullIo);
    }
    const usage = `usage:\n${spec.usage.map((u) => `  ${u}`).join('\n')}`;
    let context: ReturnType<typeof createContext> | undefined;
    try {
        const known = new Set([...spec.flags, 'json', 'help', ...(spec.network ? CONNECTION_FLAGS : [])]);
        const flags = new Flags(parseArgs(rest, new Set([...(spec.booleans ?? []), 'json', 'help']), known));
        const out = new Output(fullIo, json);
        context = createContext(flags, out, fullIo);
        const command = await spec.load();
        await command.run(context);
        return ExitCode.Ok;
    } catch (err) {
        return fail(err, json, fullIo, usage);
    } finally {
        context?.close();
    }
}

/** Answers help requests directly; undefined when a command is to run. */
function helpOrDispatch(first: string | undefined, rest: readonly string[], io: CliIo): number | undefined {
    if (first === undefined || first === '--help' || first === '-h' || (first === 'help' && rest[0] === undefined)) {
        // Bare `ledgerwork` is a usage error: the overview then goes to stderr.
        (first === undefined ? io.stderr : io.stdout)(overview());
        return first === undefined ? ExitCode.Usage : ExitCode.Ok;
    }
    if (first === '--version') {
        io.stdout('ledgerwork 0.1.0\n');
        return ExitCode.Ok;
    }
    if (first === 'help') {
        return help(rest[0] ?? '', io);
    }
    const spec = COMMANDS[first];
    if (spec !== undefined && first !== 'devnet' && (rest.includes('--help') || rest.includes('-h'))) {
        io.stdout(commandHelp(first, spec));
        return ExitCode.Ok;
    }
    return undefined;
}

function help(name: string, io: CliIo): number {
    const spec = COMMANDS[name];
    if (spec === undefined) {
        io.stderr(`error: unknown command ${JSON.stringify(name)}\n${GLOBAL_USAGE}\n`);
        return ExitCode.Usage;
    }
    io.stdout(commandHelp(name, spec));
    return ExitCode.Ok;
}

async function runDevnet(spec: CommandSpec, argv: readonly string[], io: CliIo): Promise<number> {
    if (argv.length === 0 || argv[0] === '--help') {
        io.stdout(commandHelp('devnet', spec));
        return argv.length === 0 ? ExitCode.Usage : ExitCode.Ok;
    }
    try {
        const devnet = (await import('./commands/devnet')) as { delegate(argv: readonly string[]): Promise<number> };
        return await devnet.delegate(argv);
    } catch (err) {
        // The devnet's CLI reports its own failures as plain errors: wrong arguments or a failed start.
        const typed = err instanceof ConfigError ? err : new UsageError(err instanceof Error ? err.message : String(err));
        return fail(typed, argv.includes('--json'), io, spec.usage.join('\n'));
    }
}

interface Classified {
    readonly exit: number;
    readonly code: string;
    readonly stage: string;
    readonly message: string;
}

/** The code of a mistake in what the command was given (exit 2, stage usage), if it is one. */
function usageCode(err: unknown): GatewayCode | undefined {
    if (err instanceof UsageError) {
        return GatewayCode.USAGE;
    }
    if (err instanceof DecomposeError || err instanceof JobSpecError) {
        return GatewayCode.INVALID_INPUT;
    }
    return err instanceof StoreError ? GatewayCode.STORE : undefined;
}

/** The exit code, error code and stage of anything a command throws. */
export function classify(err: unknown): Classified {
    const usage = usageCode(err);
    if (usage !== undefined) {
        return { exit: ExitCode.Usage, code: usage, stage: 'usage', message: (err as Error).message };
    }
    if (err instanceof IncompletePublishError) {
        return { ...classify(err.reason), message: err.message };
    }
    if (err instanceof ConfigError || err instanceof DirectoryError) {
        return { exit: ExitCode.Usage, code: GatewayCode.CONFIG, stage: 'config', message: err.message };
    }
    if (err instanceof ChaincodeError) {
        return { exit: ExitCode.Refused, code: err.code, stage: 'chaincode', message: err.detail };
    }
    if (err instanceof CommitFailedError) {
        return { exit: ExitCode.Refused, code: err.validationCode, stage: 'commit', message: err.message };
    }
    if (err instanceof JobFailedError) {
        return { exit: ExitCode.Refused, code: err.code, stage: 'job', message: err.message };
    }
    if (err instanceof TransportError) {
        return { exit: ExitCode.Unreachable, code: err.ambiguous ? GatewayCode.OUTCOME_UNKNOWN : GatewayCode.UNAVAILABLE, stage: 'transport', message: err.message };
    }
    if (err instanceof LedgerworkGatewayError && err.stage === 'transport') {
        return { exit: ExitCode.Unreachable, code: GatewayCode.UNAVAILABLE, stage: 'transport', message: err.message };
    }
    return { exit: ExitCode.Bug, code: GatewayCode.INTERNAL, stage: 'cli', message: err instanceof Error ? err.message : String(err) };
}

function fail(err: unknown, json: boolean, io: CliIo, usage: string): number {
    const c = classify(err);
    if (json) {
        io.stderr(`${JSON.stringify({ error: { code: c.code, message: c.message, stage: c.stage } })}\n`);
        return c.exit;
    }
    if (c.exit === ExitCode.Usage) {
        io.stderr(`error: ${c.message}\n${usage}\n`);
    } else if (c.exit === ExitCode.Bug) {
        io.stderr(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\nthis is a bug in ledgerwork; please report it with the command line and the text above\n`);
    } else if (c.exit === ExitCode.Unreachable) {
        io.stderr(`error ${c.code}: ${c.message}\n(is the peer running and PEER_ENDPOINT right?)\n`);
    } else {
        io.stderr(`error ${c.code}: ${c.message}\n`);
    }
    return c.exit;
}
