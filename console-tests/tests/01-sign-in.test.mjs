// Signing in with a token, a refused token, signing out, and pages refused without a session.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { TOKEN, launch, signInWithToken, withPage } from "../lib.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("a page without a session leads to the sign-in page and back after signing in", async () => {
  await withPage(browser, "sign-in redirect", async (page) => {
    await page.goto("/console/groups");
    await page.waitForURL(/\/console\/sign-in\?next=%2Fconsole%2Fgroups/);
    await page.getByLabel("Token", { exact: true }).fill(TOKEN);
    await page.getByRole("button", { name: "Sign in with the token" }).click();
    await page.waitForURL("**/console/groups");
    await page.getByRole("heading", { name: "Groups", level: 1 }).waitFor();
  });
});

test("a wrong token is refused without saying why, and sign-out ends the session", async () => {
  await withPage(browser, "sign-in and out", async (page) => {
    await page.goto("/console/sign-in");
    await page.getByLabel("Token", { exact: true }).fill("wdn_pt_0000_not-a-real-token");
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/console/sign-in") && r.request().method() === "POST"),
      page.getByRole("button", { name: "Sign in with the token" }).click(),
    ]);
    assert.equal(response.status(), 401);
    await page.getByRole("alert").filter({ hasText: "The token was not accepted" }).waitFor();

    await signInWithToken(page);
    await page.getByText("Signed in as").waitFor();
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === "warden_session");
    assert.ok(session, "a session cookie");
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, "Strict");
    assert.equal(session.path, "/console");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/console\/sign-in\?ended=signed-out/);
    await page.getByText("You are signed out.").waitFor();
    await page.goto("/console/groups");
    await page.waitForURL(/\/console\/sign-in/);
  });
});
