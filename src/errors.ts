/**
 * Every failure registrantd reports carries a stable `code`: tests assert it, logs print it, operators grep it.
 * Programmer errors stay plain `Error`s.
 */
export abstract class RegistrantdError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad configuration: names the key (JSON pointer or modparam) and the problem. */
export class ConfigError extends RegistrantdError {
  readonly code = "CONFIG_INVALID";
}

/** One registrant row refused by OpenSIPS's load checks; the other rows still load. */
export class RowError extends RegistrantdError {
  readonly code = "DB_ROW_INVALID";
  constructor(
    readonly rowId: string,
    readonly column: string,
    readonly reason: string,
  ) {
    super(`row id=${rowId}: column ${column}: ${reason}`);
  }
}

/** The database could not be reached or answered with an error. */
export class StoreUnavailableError extends RegistrantdError {
  readonly code = "STORE_UNAVAILABLE";
}

/** The `version` table does not hold the expected version of the registrant table. */
export class StoreVersionError extends RegistrantdError {
  readonly code = "STORE_VERSION";
}

export class SipParseError extends RegistrantdError {
  readonly code = "SIP_PARSE";
  constructor(
    message: string,
    readonly offset = 0,
  ) {
    super(message);
  }
}

export class SipUriError extends RegistrantdError {
  readonly code = "SIP_URI";
}

export class TransportError extends RegistrantdError {
  readonly code = "SIP_TRANSPORT";
}

export class SocketNotConfiguredError extends RegistrantdError {
  readonly code = "SIP_SOCKET_NOT_CONFIGURED";
}

export class DnsError extends RegistrantdError {
  readonly code = "SIP_DNS";
}

export class TransactionTimeoutError extends RegistrantdError {
  readonly code = "SIP_TIMER_F";
}

export class DigestError extends RegistrantdError {
  readonly code = "SIP_DIGEST";
}

/** An MI request the command refuses; `mi/reply.ts` maps it to OpenSIPS's code, message and data. */
export class MiError extends RegistrantdError {
  readonly code = "MI_ERROR";
  constructor(
    readonly miCode: number,
    message: string,
    readonly data?: string,
  ) {
    super(message);
  }
}

export class SinkError extends RegistrantdError {
  readonly code = "EVENT_SINK";
}

/** Whatever was thrown or rejected, as an Error. */
export function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
