import { MiError } from "../../errors.js";
import type { SrIdentifierView, SrReport, StatusReport } from "../../status/status-report.js";
import type { MiCommand, MiParams } from "../command.js";

/**
 * The Status/Report MI commands (reference mi-and-events §8) with their 3.x names as aliases:
 * status_report:get / sr_get_status, :status / sr_list_status, :reports / sr_list_reports,
 * :identifiers / sr_list_identifiers. Shapes and 404 texts as OpenSIPS 4.0 answers them.
 */
export function statusReportCommands(sr: StatusReport): MiCommand[] {
  const str = (p: MiParams, name: string): string | undefined => {
    const v = p[name];
    return typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined;
  };
  /** the group named by the params; its identifiers are listed only when read (a million views otherwise) */
  const group = (p: MiParams): { name: string; readonly idents: readonly SrIdentifierView[] } => {
    const name = str(p, "group") ?? "";
    if (!sr.groupNames().includes(name)) throw new MiError(404, "Group not found");
    return {
      name,
      get idents() {
        return sr.identifiers(name) ?? [];
      },
    };
  };
  const readiness = (status: number) => status >= 0;
  const statusJson = (i: SrIdentifierView) => ({
    Name: i.name,
    Readiness: readiness(i.status),
    Status: i.status,
    ...(i.details === undefined ? {} : { Details: i.details }),
  });
  const reportsJson = (reports: readonly SrReport[]) =>
    reports.map((r) => ({ Timestamp: r.timestampSec, Date: r.date, Log: r.log }));
  const all = () => sr.groupNames().map((name) => ({ name, idents: sr.identifiers(name) ?? [] }));
  const groupParam = { name: "group", type: "string" } as const;
  const identParam = { name: "identifier", type: "string" } as const;

  return [
    {
      name: "status_report:get",
      aliases: ["sr_get_status"],
      recipes: [[groupParam], [groupParam, identParam]],
      handler(p) {
        const g = group(p);
        const ident = str(p, "identifier") ?? "main";
        if (ident === "all") {
          // OpenSIPS's aggregate: ready only when no identifier of the group is negative
          const status = g.idents.some((i) => i.status < 0) ? -1 : 1;
          return { Readiness: readiness(status), Status: status, Details: "aggregated" };
        }
        const i = sr.identifier(g.name, ident);
        if (i === undefined) throw new MiError(404, "Identity not found");
        return {
          Readiness: readiness(i.status),
          Status: i.status,
          ...(i.details === undefined ? {} : { Details: i.details }),
        };
      },
    },
    {
      name: "status_report:status",
      aliases: ["sr_list_status"],
      recipes: [[], [groupParam]],
      handler(p) {
        if (p["group"] !== undefined) return group(p).idents.map(statusJson);
        return all().map((g) => ({ Name: g.name, Identifiers: g.idents.map(statusJson) }));
      },
    },
    {
      name: "status_report:reports",
      aliases: ["sr_list_reports"],
      recipes: [[], [groupParam], [groupParam, identParam]],
      handler(p) {
        if (p["group"] === undefined) {
          return all().map((g) => ({
            Name: g.name,
            Identifiers: g.idents.map((i) => ({ Name: i.name, Reports: reportsJson(i.reports) })),
          }));
        }
        const g = group(p);
        const ident = str(p, "identifier");
        if (ident === undefined) return g.idents.map((i) => ({ Name: i.name, Reports: reportsJson(i.reports) }));
        const i = sr.identifier(g.name, ident);
        if (i === undefined) throw new MiError(404, "Identifier not found");
        return reportsJson(i.reports);
      },
    },
    {
      name: "status_report:identifiers",
      aliases: ["sr_list_identifiers"],
      recipes: [[], [groupParam]],
      handler(p) {
        if (p["group"] !== undefined) {
          const g = group(p);
          return { Group: g.name, Identifiers: g.idents.map((i) => i.name) };
        }
        return all().map((g) => ({ Group: g.name, Identifiers: g.idents.map((i) => i.name) }));
      },
    },
  ];
}
