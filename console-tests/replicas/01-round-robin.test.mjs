// The console behind a round-robin load balancer (issue 20): two replicas on one PostgreSQL
// (started by ../run-replicas), and a proxy here in front of them that the browser talks to.
// Sign in through replica A, navigate and submit forms with the requests alternating between
// the replicas, sign out through B: the session is refused on A at the next request.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { BASE, launch, signInWithToken, withPage } from "../lib.mjs";

const REPLICAS = {
  a: new URL(process.env.WARDEN_REPLICA_A ?? "http://127.0.0.1:8081"),
  b: new URL(process.env.WARDEN_REPLICA_B ?? "http://127.0.0.1:8082"),
};

// Where the next request goes: "a", "b", or "alternate" (b, a, b, … per request).
let route = "a";
let turn = 0;
// Every console request the proxy forwarded: method, path, replica, status.
const served = [];

function pick() {
  if (route !== "alternate") return route;
  turn += 1;
  return turn % 2 === 1 ? "b" : "a";
}

// Forwards each request as it came (the Host header included, as a load balancer keeps it) to
// the replica chosen for it.
const proxy = http.createServer((request, response) => {
  const replica = pick();
  const target = REPLICAS[replica];
  const upstream = http.request(
    {
      host: target.hostname,
      port: target.port,
      method: request.method,
      path: request.url,
      headers: request.headers,
    },
    (answer) => {
      if (request.url.startsWith("/console") && !request.url.startsWith("/console/assets/")) {
        served.push({ method: request.method, path: request.url, replica, status: answer.statusCode });
      }
      response.writeHead(answer.statusCode, answer.headers);
      answer.pipe(response);
    },
  );
  upstream.on("error", (error) => {
    response.writeHead(502, { "content-type": "text/plain" });
    response.end(`proxy: replica ${replica}: ${error.message}`);
  });
  request.pipe(upstream);
});

let browser;
before(async () => {
  const port = Number(new URL(BASE).port);
  await new Promise((resolve, reject) => {
    proxy.once("error", reject);
    proxy.listen(port, "127.0.0.1", resolve);
  });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await new Promise((resolve) => proxy.close(resolve));
});

// What the requests since `from` were served by, as "METHOD path → replica status".
function since(from) {
  return served.slice(from).map((s) => `${s.method} ${s.path} → ${s.replica} ${s.status}`);
}

test("a session made on A works on both replicas, and signing out on B ends it on A", async () => {
  await withPage(browser, "round robin sessions", async (page) => {
    // Sign in through A.
    route = "a";
    await signInWithToken(page);
    await page.getByText("Signed in as").waitFor();
    const signIn = served.find((s) => s.method === "POST" && s.path === "/console/sign-in");
    assert.equal(signIn?.replica, "a");
    assert.equal(signIn?.status, 303);
    const [session] = (await page.context().cookies()).filter((c) => c.name === "warden_session");
    assert.ok(session, "a session cookie");

    // Each request to the other replica in turn: pages and forms work on both.
    route = "alternate";
    turn = 0;
    const from = served.length;
    for (const [path, heading] of [
      ["/console/groups", "Groups"],
      ["/console/users", "Users"],
      ["/console/policies", "Policies"],
      ["/console", "Overview"],
    ]) {
      const response = await page.goto(path);
      assert.equal(response.status(), 200, `${path}: ${since(from).join("\n")}`);
      await page.getByRole("heading", { name: heading, level: 1 }).waitFor();
    }
    // Forms until one was submitted to B and one to A; each message is shown by the page
    // after it, which the other replica served.
    let n = 0;
    while (n < 6) {
      const before = served.length;
      const name = `Round robin ${n}`;
      await page.goto("/console/groups");
      await page.getByLabel("Name", { exact: true }).fill(name);
      await page.getByRole("button", { name: "Create group" }).click();
      await page.getByRole("status").filter({ hasText: `Created group \`${name}\`.` }).waitFor();
      await page.getByRole("heading", { name: `Group ${name}`, level: 1 }).waitFor();
      const post = served.slice(before).find((s) => s.method === "POST");
      const shown = served.slice(before).filter((s) => s.method === "GET").at(-1);
      assert.equal(post.status, 303, since(before).join("\n"));
      assert.notEqual(post.replica, shown.replica, since(before).join("\n"));
      n += 1;
      const posts = new Set(served.slice(from).filter((s) => s.method === "POST").map((s) => s.replica));
      if (posts.has("a") && posts.has("b")) break;
    }
    const replicas = since(from);
    for (const replica of ["a", "b"]) {
      assert.ok(
        served.slice(from).some((s) => s.method === "GET" && s.replica === replica && s.status === 200),
        `pages from ${replica}:\n${replicas.join("\n")}`,
      );
      assert.ok(
        served.slice(from).some((s) => s.method === "POST" && s.replica === replica && s.status === 303),
        `forms to ${replica}:\n${replicas.join("\n")}`,
      );
    }
    assert.ok(
      served.slice(from).every((s) => s.status === 200 || s.status === 303),
      `no request refused:\n${replicas.join("\n")}`,
    );

    // Sign out through B.
    route = "b";
    const out = served.length;
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/console\/sign-in\?ended=signed-out/);
    await page.getByText("You are signed out.").waitFor();
    assert.deepEqual(
      served.slice(out).map((s) => [s.method, s.path.split("?")[0], s.replica, s.status]),
      [
        ["POST", "/console/sign-out", "b", 303],
        ["GET", "/console/sign-in", "b", 200],
      ],
    );

    // The browser forgot the cookie; someone who kept it is refused on A at the next request.
    assert.equal((await page.context().cookies()).filter((c) => c.name === "warden_session").length, 0);
    await page.context().addCookies([session]);
    route = "a";
    const next = served.length;
    await page.goto("/console/groups");
    await page.waitForURL(/\/console\/sign-in\?next=%2Fconsole%2Fgroups$/);
    assert.deepEqual(served[next], { method: "GET", path: "/console/groups", replica: "a", status: 303 });
    // And straight at replica A, without the proxy.
    const direct = await fetch(new URL("/console", REPLICAS.a), {
      headers: { cookie: `warden_session=${session.value}` },
      redirect: "manual",
    });
    assert.equal(direct.status, 303);
    assert.equal(direct.headers.get("location"), "/console/sign-in?next=%2Fconsole");
  });
});
