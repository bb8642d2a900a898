// A user who holds only some iam:* permissions signs in with a password an administrator set:
// actions they may not take are not offered, and the server refuses them anyway. Names are
// shown as text, never as markup.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { account, api, launch, signInWithPassword, signInWithToken, withPage } from "../lib.mjs";

let browser;
const EMAIL = "reader@example.com";
const PASSWORD = "correct horse battery staple";

before(async () => {
  browser = await launch();
  const acc = await account();
  const [group] = await api("POST", `/iam/v1/accounts/${acc}/groups`, [{ name: "Readers" }]);
  const policy = await api("POST", `/iam/v1/repo/account/${acc}/policies`, {
    name: "Read groups only",
    statementQuery: "ALLOW iam:groups:read;",
  });
  await api("POST", `/iam/v1/repo/account/${acc}/bindings/${policy.uuid}/${group.uuid}`, {});
  await api("POST", `/iam/v1/accounts/${acc}/users`, { email: EMAIL, name: "Rita" });
  await api("POST", `/iam/v1/accounts/${acc}/users/${EMAIL}`, [group.uuid]);
  await api("PUT", `/iam/v1/accounts/${acc}/users/${EMAIL}/password`, { password: PASSWORD });
  await api("POST", `/iam/v1/accounts/${acc}/groups`, [{ name: '<img src=x onerror="window.__pwned=1">' }]);
});
after(async () => {
  await browser?.close();
});

test("a reader sees only what they may read and is refused a write anyway", async () => {
  await withPage(browser, "partial access", async (page) => {
    await signInWithPassword(page, EMAIL, "not the password at all");
    await page.getByRole("alert").filter({ hasText: "The email or password is not correct." }).waitFor();
    await signInWithPassword(page, EMAIL, PASSWORD);
    await page.waitForURL("**/console");

    const nav = page.getByRole("navigation", { name: "Sections" });
    const sections = await nav.getByRole("link").allTextContents();
    assert.deepEqual(sections, ["Groups", "Access simulator"]);

    await nav.getByRole("link", { name: "Groups" }).click();
    await page.getByRole("link", { name: "Readers" }).waitFor();
    assert.equal(await page.getByRole("heading", { name: "Create a group" }).count(), 0);
    await page.getByRole("link", { name: "Readers" }).click();
    assert.equal(await page.getByRole("button", { name: "Save" }).count(), 0);
    assert.equal(await page.getByText("Delete this group").count(), 0);
    await page.getByText("You may not read bindings").first().waitFor();

    // Forged anyway, with a valid CSRF token: the server refuses.
    const status = await page.evaluate(async () => {
      const csrf = document.querySelector('meta[name="csrf-token"]').content;
      const response = await fetch("/console/groups", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ csrf, name: "Sneaky" }).toString(),
      });
      return response.status;
    });
    assert.equal(status, 403);
  });
});

test("a hostile group name is shown as text", async () => {
  await withPage(browser, "hostile name", async (page, dialogs) => {
    await signInWithToken(page);
    await page.goto("/console/groups");
    await page.getByText('<img src=x onerror="window.__pwned=1">').first().waitFor();
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(dialogs, []);
  });
});
