// The part of net-snmp (CommonJS, untyped) that the SNMP listener uses. Kept narrow on purpose: the
// listener relies on the receiver's documented options (`sockets`, `dgramModule`, `engineID`), its
// Authorizer, and the exported Authentication helpers whose key cache it replaces (see usm-keys.ts).
declare module 'net-snmp' {
  export interface ReceiverVarbind {
    oid: string;
    type: number;
    value: unknown;
  }
  export interface ReceiverPdu {
    type: number;
    id: number;
    varbinds: ReceiverVarbind[];
    scoped?: boolean;
    contextName?: string;
    contextEngineID?: string;
    // SNMPv1 Trap-PDU fields
    enterprise?: string;
    agentAddr?: string;
    generic?: number;
    specific?: number;
    upTime?: number;
  }
  export interface Notification {
    pdu: ReceiverPdu;
    rinfo: { address: string; port: number; family: string; size: number };
  }
  export interface UsmUser {
    name: string;
    level: number;
    authProtocol?: string;
    authKey?: string;
    privProtocol?: string;
    privKey?: string;
  }
  export interface Authorizer {
    addCommunity(community: string): void;
    addUser(user: UsmUser): void;
    getUsers(): UsmUser[];
  }
  export interface Engine {
    engineID: Buffer;
    engineBoots: number;
    engineTime: number;
  }
  export interface Receiver {
    engine: Engine;
    getAuthorizer(): Authorizer;
    close(callback?: () => void): void;
  }
  export interface DgramLikeSocket {
    on(event: string, listener: (...args: never[]) => void): unknown;
    bind(port?: number, address?: string | null): unknown;
    send(
      buf: Buffer,
      offset: number,
      length: number,
      port: number,
      address: string,
      cb?: (err: Error | null) => void,
    ): void;
    close(cb?: () => void): void;
    address(): unknown;
  }
  export interface ReceiverOptions {
    port?: number;
    transport?: string;
    address?: string | null;
    engineID?: string | Buffer;
    disableAuthorization?: boolean;
    includeAuthentication?: boolean;
    dgramModule?: { createSocket(type: string): DgramLikeSocket };
  }
  export interface V3SessionOptions {
    port?: number;
    trapPort?: number;
    engineID?: string;
    version?: number;
  }
  /** A sending session (used by tests and benchmarks to originate v3 traps). */
  export interface TrapSession {
    trap(typeOrOid: string, varbinds: ReceiverVarbind[], callback: (error: Error | null) => void): void;
    close(): void;
  }
  export function createReceiver(
    options: ReceiverOptions,
    callback: (error: (Error & { code?: number }) | null, notification?: Notification) => void,
  ): Receiver;

  export const ObjectType: Record<string, number>;
  export const PduType: Record<string, number>;
  export const SecurityLevel: { noAuthNoPriv: number; authNoPriv: number; authPriv: number };
  export const AuthProtocols: Record<string, string>;
  export const PrivProtocols: Record<string, string>;
  export const ResponseInvalidCode: Record<string, number>;
  export class ResponseInvalidError extends Error {
    code: number;
  }
  export class RequestFailedError extends Error {}
  export class RequestInvalidError extends Error {}
  export const Authentication: {
    HMAC_BUFFER_SIZE: number;
    algorithms: Record<
      string,
      { KEY_LENGTH: number; AUTHENTICATION_CODE_LENGTH: number; CRYPTO_ALGORITHM: string }
    >;
    authToKeyCache: Record<string, Buffer | undefined>;
    passwordToKey(authProtocol: string, password: string, engineID: Buffer): Buffer;
    isAuthentic(
      message: Buffer,
      authProtocol: string,
      password: string,
      engineID: Buffer,
      digestInMessage: Buffer,
    ): boolean;
    writeParameters(
      message: Buffer,
      authProtocol: string,
      password: string,
      engineID: Buffer,
      digestInMessage: Buffer,
    ): void;
  };

  const snmp: {
    createReceiver: typeof createReceiver;
    ObjectType: typeof ObjectType;
    PduType: typeof PduType;
    SecurityLevel: typeof SecurityLevel;
    AuthProtocols: typeof AuthProtocols;
    PrivProtocols: typeof PrivProtocols;
    ResponseInvalidCode: typeof ResponseInvalidCode;
    ResponseInvalidError: typeof ResponseInvalidError;
    RequestFailedError: typeof RequestFailedError;
    RequestInvalidError: typeof RequestInvalidError;
    Authentication: typeof Authentication;
    createV3Session(target: string, user: UsmUser, options: V3SessionOptions): TrapSession;
  };
  export default snmp;
}
