import type { MiCommand } from "./command.js";

export type Resolution =
  | { readonly kind: "found"; readonly command: MiCommand }
  | { readonly kind: "ambiguous"; readonly names: readonly string[] }
  | { readonly kind: "not-found" };

/**
 * MI command names as OpenSIPS 4.0 resolves them (reference uac-registrant §7.1, mi-and-events §1.2): a name with
 * `:` is a full `module:cmd` name, then an alias; a name without `:` is a local name (the part after the colon),
 * then an alias. Several candidates → "Method ambiguous". Unlike 4.0, `which` lists the aliases too, so
 * opensips-cli (which only accepts listed names) takes `reg_list` and `version` as well as the 4.0 names.
 */
export class MiRegistry {
  private readonly commands: MiCommand[] = [];
  private readonly byName = new Map<string, MiCommand>();
  private readonly byLocal = new Map<string, MiCommand[]>();
  private readonly byAlias = new Map<string, MiCommand[]>();

  add(command: MiCommand): void {
    if (this.byName.has(command.name)) throw new Error(`MI command ${command.name} registered twice`);
    this.commands.push(command);
    this.byName.set(command.name, command);
    const colon = command.name.indexOf(":");
    if (colon >= 0) push(this.byLocal, command.name.slice(colon + 1), command);
    for (const alias of command.aliases ?? []) push(this.byAlias, alias, command);
  }

  resolve(method: string): Resolution {
    if (method.includes(":")) {
      const exact = this.byName.get(method);
      if (exact) return { kind: "found", command: exact };
      return pick(this.byAlias.get(method));
    }
    // a core command may be registered under a plain name (no module)
    const plain = this.byName.get(method);
    if (plain) return { kind: "found", command: plain };
    const local = pick(this.byLocal.get(method));
    return local.kind === "not-found" ? pick(this.byAlias.get(method)) : local;
  }

  /** `which` without params: every full name in registration order, then every alias not equal to one. */
  names(): string[] {
    const out = this.commands.map((c) => c.name);
    const seen = new Set(out);
    for (const c of this.commands) {
      for (const alias of c.aliases ?? []) {
        if (!seen.has(alias)) {
          seen.add(alias);
          out.push(alias);
        }
      }
    }
    return out;
  }

  /** Full names of one module (`which` with `module:`). */
  moduleNames(module: string): string[] {
    return this.commands.filter((c) => c.name.startsWith(`${module}:`)).map((c) => c.name);
  }
}

function push(map: Map<string, MiCommand[]>, key: string, command: MiCommand): void {
  const list = map.get(key);
  if (!list) map.set(key, [command]);
  else if (!list.includes(command)) list.push(command);
}

function pick(list: readonly MiCommand[] | undefined): Resolution {
  if (!list || list.length === 0) return { kind: "not-found" };
  if (list.length === 1) return { kind: "found", command: list[0]! };
  return { kind: "ambiguous", names: list.map((c) => c.name) };
}
