import { MiError } from "../errors.js";
import { RpcCode, rpcError } from "./jsonrpc.js";
import type { RpcErrorBody } from "./jsonrpc.js";

/** OpenSIPS's `data` texts for parameter errors (mi/mi.c, mi/item.c), reference mi-and-events §1.3-1.4. */
export const ParamErrorText = {
  COUNT: "Too few or too many parameters",
  AMBIGUOUS: "Ambiguous call, use named parameters instead",
  NAMES: "Named parameters do not match",
  NAMED_ONLY: "Command only supports named parameters",
  badType: (name: string) => `Bad type for parameter '${name}'`,
  emptyArray: (name: string) => `Empty array in parameter '${name}'`,
  badArrayItem: (name: string) => `Bad type for array item in parameter '${name}'`,
} as const;

export function invalidParams(data: string): RpcErrorBody {
  return rpcError(RpcCode.INVALID_PARAMS, "Invalid params", data);
}

export const METHOD_NOT_FOUND: RpcErrorBody = rpcError(RpcCode.METHOD_NOT_FOUND, "Method not found");

export function methodAmbiguous(names: readonly string[]): RpcErrorBody {
  return rpcError(RpcCode.METHOD_AMBIGUOUS, "Method ambiguous", `supported names: ${names.join(", ")}`);
}

/** What OpenSIPS answers when a handler fails internally (DB down on reload, a bug): no details leak. */
export const HANDLER_FAILED: RpcErrorBody = rpcError(
  RpcCode.SERVER_ERROR,
  "Server error",
  "Command handler returned null",
);

/** A handler's refusal (MiError) keeps its MI code, text and data; anything else is a handler failure. */
export function errorReply(err: unknown): RpcErrorBody {
  if (err instanceof MiError) return rpcError(err.miCode, err.message, err.data);
  return HANDLER_FAILED;
}
