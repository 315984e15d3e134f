import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import type { ErrorObject, ValidateFunction } from "ajv";
import type { Logger } from "../log.js";
import type { Statistics } from "../statistics.js";
import type { MiCommand, MiParam, MiParams } from "./command.js";
import { parseRequest, printError, printNumber, printSuccess } from "./jsonrpc.js";
import type { RawParams, RpcErrorBody, RpcId } from "./jsonrpc.js";
import { MiRegistry } from "./registry.js";
import {
  HANDLER_FAILED,
  METHOD_NOT_FOUND,
  ParamErrorText,
  errorReply,
  invalidParams,
  methodAmbiguous,
} from "./reply.js";

/**
 * What a transport does with one request text: send `text`; send nothing (a notification); for text that is
 * not JSON, send the -32700 reply (mi_http) or the transport's own answer (mi_fifo: nothing, mi_datagram:
 * `400 Parse_error`); or report that no reply could be built (HTTP 500).
 */
export type MiOutcome =
  | { readonly kind: "reply"; readonly text: string }
  | { readonly kind: "silent" }
  | { readonly kind: "parse-error"; readonly text: string }
  | { readonly kind: "failed" };

export interface MiDispatcher {
  readonly registry: MiRegistry;
  register(commands: readonly MiCommand[]): void;
  /** one request text (already cut to one JSON value) → reply; never throws */
  handle(text: string, transport: string): Promise<MiOutcome>;
}

export interface MiDispatcherOptions {
  readonly commands?: readonly MiCommand[];
  readonly log: Logger;
  readonly stats?: Statistics;
}

const SCHEMA_DIR = new URL("../../schemas/mi/", import.meta.url);

function loadSchema(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(file, SCHEMA_DIR), "utf8")) as Record<string, unknown>;
}

const PARAM_TYPES_ID = "https://registrantd.invalid/schemas/mi/param-types.json";

type Match = { readonly ok: true; readonly params: MiParams } | { readonly ok: false; readonly error: RpcErrorBody };

/**
 * Parameter recipes checked with ajv (reference uac-registrant §7.2): the recipe is chosen by count (positional)
 * or by count and exact names (named), then the values are checked against schemas/mi/param-types.json and
 * coerced the way OpenSIPS reads them.
 */
class RecipeChecker {
  private readonly ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  private readonly validators = new WeakMap<readonly MiParam[], ValidateFunction>();
  private readonly checkRecipe: ValidateFunction;

  constructor() {
    this.ajv.addSchema(loadSchema("param-types.json"));
    this.checkRecipe = this.ajv.compile(loadSchema("recipe.json"));
  }

  /** Programmer check at registration: recipes well formed, names unique inside each. */
  assertRecipes(command: MiCommand): void {
    for (const recipe of command.recipes) {
      if (!this.checkRecipe(recipe))
        throw new Error(`MI ${command.name}: bad recipe ${this.ajv.errorsText(this.checkRecipe.errors)}`);
      if (new Set(recipe.map((p) => p.name)).size !== recipe.length)
        throw new Error(`MI ${command.name}: duplicate param`);
      this.validator(recipe);
    }
  }

  match(command: MiCommand, raw: RawParams | undefined): Match {
    const recipes = command.recipes;
    if (raw === undefined) {
      const none = recipes.find((r) => r.length === 0);
      return none ? { ok: true, params: {} } : { ok: false, error: invalidParams(ParamErrorText.COUNT) };
    }
    let recipe: readonly MiParam[];
    let named: Record<string, unknown>;
    if (Array.isArray(raw)) {
      const values = raw as readonly unknown[];
      const sameCount = recipes.filter((r) => r.length === values.length);
      if (sameCount.length === 0) return { ok: false, error: invalidParams(ParamErrorText.COUNT) };
      if (sameCount.length > 1) return { ok: false, error: invalidParams(ParamErrorText.AMBIGUOUS) };
      recipe = sameCount[0]!;
      named = Object.fromEntries(recipe.map((p, i) => [p.name, values[i]]));
    } else {
      const obj = raw as Readonly<Record<string, unknown>>;
      const keys = Object.keys(obj);
      const sameCount = recipes.filter((r) => r.length === keys.length);
      if (sameCount.length === 0) return { ok: false, error: invalidParams(ParamErrorText.COUNT) };
      const exact = sameCount.find((r) => r.every((p) => Object.hasOwn(obj, p.name)));
      if (!exact) return { ok: false, error: invalidParams(ParamErrorText.NAMES) };
      recipe = exact;
      named = obj;
    }
    const validate = this.validator(recipe);
    if (!validate(named)) return { ok: false, error: invalidParams(describe(recipe, validate.errors ?? [])) };
    return { ok: true, params: coerce(recipe, named) };
  }

  private validator(recipe: readonly MiParam[]): ValidateFunction {
    let v = this.validators.get(recipe);
    if (!v) {
      const properties = Object.fromEntries(
        recipe.map((p) => [p.name, { $ref: `${PARAM_TYPES_ID}#/definitions/${p.type}` }]),
      );
      v = this.ajv.compile({
        type: "object",
        properties,
        required: recipe.map((p) => p.name),
      });
      this.validators.set(recipe, v);
    }
    return v;
  }
}

/** The first failing parameter in recipe order, worded as OpenSIPS words it. */
function describe(recipe: readonly MiParam[], errors: readonly ErrorObject[]): string {
  for (const p of recipe) {
    const own = errors.filter((e) => e.instancePath === `/${p.name}` || e.instancePath.startsWith(`/${p.name}/`));
    if (own.length === 0) continue;
    if (p.type === "array") {
      if (own.some((e) => e.instancePath === `/${p.name}` && e.keyword === "type"))
        return ParamErrorText.badType(p.name);
      if (own.some((e) => e.keyword === "minItems")) return ParamErrorText.emptyArray(p.name);
      return ParamErrorText.badArrayItem(p.name);
    }
    return ParamErrorText.badType(p.name);
  }
  return ParamErrorText.COUNT;
}

function coerce(recipe: readonly MiParam[], named: Readonly<Record<string, unknown>>): MiParams {
  const out: Record<string, string | number | readonly unknown[]> = {};
  for (const p of recipe) {
    const v = named[p.name];
    switch (p.type) {
      case "string":
        out[p.name] = typeof v === "number" ? printNumber(v) : (v as string);
        break;
      case "int":
        // OpenSIPS reads a JSON number through cJSON's valueint (truncated) and a string with str2sint
        out[p.name] = typeof v === "number" ? Math.trunc(v) : Number.parseInt(v as string, 10);
        break;
      case "array":
        out[p.name] = (v as readonly (string | number)[]).map((x) => (typeof x === "number" ? printNumber(x) : x));
        break;
    }
  }
  return out;
}

export function createMiDispatcher(options: MiDispatcherOptions): MiDispatcher {
  const registry = new MiRegistry();
  const recipes = new RecipeChecker();
  const log = options.log.child({ mod: "mi" });
  const requests = options.stats?.counter("mi", "requests");
  const errorReplies = options.stats?.counter("mi", "error_replies");

  const register = (commands: readonly MiCommand[]): void => {
    for (const c of commands) {
      recipes.assertRecipes(c);
      registry.add(c);
    }
  };
  register(options.commands ?? []);

  const answerError = (id: RpcId | undefined, error: RpcErrorBody): MiOutcome => {
    errorReplies?.inc();
    return id === undefined ? { kind: "silent" } : { kind: "reply", text: printError(id, error) };
  };

  const handle = async (text: string, transport: string): Promise<MiOutcome> => {
    requests?.inc();
    const req = parseRequest(text);
    if (!req.ok) {
      errorReplies?.inc();
      log.info({ transport, code: req.error.code }, "MI request refused: %s", req.error.message);
      // OpenSIPS answers -32700 and -32600 even for a notification (id null)
      const text = printError(req.id, req.error);
      return req.parseError ? { kind: "parse-error", text } : { kind: "reply", text };
    }
    const found = registry.resolve(req.method);
    if (found.kind === "not-found") return answerError(req.id, METHOD_NOT_FOUND);
    if (found.kind === "ambiguous") return answerError(req.id, methodAmbiguous(found.names));
    const command = found.command;
    const match = recipes.match(command, req.params);
    if (!match.ok) return answerError(req.id, match.error);
    let result: unknown;
    try {
      result = await command.handler(match.params);
    } catch (err) {
      const body = errorReply(err);
      if (body === HANDLER_FAILED) log.error({ err, transport, method: command.name }, "MI command failed");
      return answerError(req.id, body);
    }
    if (result === null) return answerError(req.id, HANDLER_FAILED);
    log.debug({ transport, method: command.name }, "MI request served");
    return req.id === undefined ? { kind: "silent" } : { kind: "reply", text: printSuccess(req.id, result ?? "OK") };
  };

  return {
    registry,
    register,
    handle: async (text, transport) => {
      try {
        return await handle(text, transport);
      } catch (err) {
        // a reply that cannot be printed (e.g. a cyclic result): the transport answers its "internal error"
        log.error({ err, transport }, "MI dispatch failed");
        return { kind: "failed" };
      }
    },
  };
}
