// SPDX-License-Identifier: Apache-2.0
/**
 * An in-process Fabric 2.5 peer simulator that runs chaincode through the real fabric-shim runtime.
 * See {@link PeerSimulator}. The implementation lives in the devnet package (`network/devnet/src`).
 */
export {
    PeerSimulator,
    SimulatedEndorseError,
    type BlockRecord,
    type ChaincodeEvent,
    type ChaincodeEventRecord,
    type CommittedTransaction,
    type Endorsement,
    type PeerSimulatorOptions,
    type StateEntry,
    type StateView,
    type Submission,
    type TransactionOptions,
} from '../../../network/devnet/src/peerSimulator';
export { getTestCa, getTestIdentity, FABRIC_ATTRIBUTES_OID, type IdentityOptions, type NodeOu, type TestCa, type TestIdentity } from '../../../network/devnet/src/identities';
export { isLowS, toLowS } from '../../../network/devnet/src/der';
export { buildSignedProposal, computeTxId, unpackProposal, type BuiltProposal, type ProposalSpec } from '../../../network/devnet/src/proposals';
export { compareKeys, type KeyValidation } from '../../../network/devnet/src/keys';
export { ChaincodeHandler, type ChaincodeHandlerOptions, type ExecuteRequest, type ProtocolTraceEvent } from '../../../network/devnet/src/chaincodeHandler';
export { InProcessChatStream, type PeerStream } from '../../../network/devnet/src/chatStream';
export { Ledger, validateBlock, type OrderedTransaction, type TxValidationCode } from '../../../network/devnet/src/ledger';
export { TxSimulator, type KVRead, type KVWrite, type RangeQueryInfo, type ReadWriteSet } from '../../../network/devnet/src/txSimulator';
export { WorldState, UpdateBatch, type Version, type VersionedKV } from '../../../network/devnet/src/worldState';
export { type ContractClass, type ShimLogLevel } from '../../../network/devnet/src/shimRuntime';
export { CHAINCODE_DIR, contractApi, setShimLogLevel } from '../chaincodeRuntime';
