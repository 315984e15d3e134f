import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { dashboardRoutes } from "../../../src/dashboard/dashboard-routes.js";

interface Answer {
  status: number;
  headers: Record<string, string | number>;
  body: string;
}

function call(
  routes: ReturnType<typeof dashboardRoutes>,
  path: string,
  init: { method?: string; authorization?: string } = {},
): Answer {
  const route = routes.find((r) => r.path === path);
  assert.ok(route, `route ${path}`);
  const answer: Answer = { status: 0, headers: {}, body: "" };
  const req = {
    method: init.method ?? "GET",
    url: path,
    headers: init.authorization ? { authorization: init.authorization } : {},
  } as unknown as IncomingMessage;
  const res = {
    writeHead(status: number, headers: Record<string, string | number>) {
      answer.status = status;
      answer.headers = headers;
      return this;
    },
    end(body?: Buffer | string) {
      if (body !== undefined) answer.body = body.toString();
    },
  } as unknown as ServerResponse;
  route.handler(req, res);
  return answer;
}

describe("dashboard routes", () => {
  const ws = { ip: "127.0.0.1", port: 8765, path: "/events", token: "t0k" };

  it("serves the page, its modules and the websocket config", () => {
    const routes = dashboardRoutes({ websocket: ws });
    assert.deepEqual(routes.map((r) => r.path).sort(), [
      "/dashboard",
      "/dashboard/",
      "/dashboard/config.json",
      "/dashboard/dashboard.css",
      "/dashboard/detail-pane.js",
      "/dashboard/index.html",
      "/dashboard/main.js",
      "/dashboard/model.js",
      "/dashboard/rpc-socket.js",
      "/dashboard/virtual-table.js",
    ]);
    const redirect = call(routes, "/dashboard");
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers["Location"], "/dashboard/");
    const page = call(routes, "/dashboard/");
    assert.equal(page.status, 200);
    assert.match(String(page.headers["Content-Type"]), /^text\/html/);
    assert.match(page.body, /<script type="module" src="main.js"><\/script>/);
    assert.match(String(call(routes, "/dashboard/main.js").headers["Content-Type"]), /^text\/javascript/);
    assert.deepEqual(JSON.parse(call(routes, "/dashboard/config.json").body), {
      websocket: { host: "127.0.0.1", port: 8765, path: "/events", token: "t0k" },
    });
    assert.deepEqual(
      JSON.parse(call(dashboardRoutes({ websocket: { ...ws, ip: "0.0.0.0" } }), "/dashboard/config.json").body)
        .websocket.host,
      undefined,
    );
    assert.deepEqual(JSON.parse(call(dashboardRoutes({}), "/dashboard/config.json").body), { websocket: null });
    assert.equal(call(routes, "/dashboard/main.js", { method: "POST" }).status, 405);
  });

  it("asks for the MI HTTP credentials when they are configured", () => {
    const routes = dashboardRoutes({ websocket: ws, auth: { username: "admin", password: "s3cret" } });
    const refused = call(routes, "/dashboard/config.json");
    assert.equal(refused.status, 401);
    assert.equal(refused.headers["WWW-Authenticate"], 'Basic realm="OpenSIPS MI"');
    assert.ok(!refused.body.includes("t0k"));
    const wrong = call(routes, "/dashboard/", {
      authorization: `Basic ${Buffer.from("admin:nope").toString("base64")}`,
    });
    assert.equal(wrong.status, 401);
    const ok = call(routes, "/dashboard/config.json", {
      authorization: `Basic ${Buffer.from("admin:s3cret").toString("base64")}`,
    });
    assert.equal(ok.status, 200);
  });
});
