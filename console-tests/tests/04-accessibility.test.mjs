// Keyboard-only use, visible focus, labels and table headers, and no sideways scrolling at
// 1280 and 390 pixels wide on every main page.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { NARROW, TOKEN, WIDE, account, api, launch, overflowing, shot, signInWithToken, withPage } from "../lib.mjs";

let browser;
let groupId;
before(async () => {
  browser = await launch();
  const acc = await account();
  const groups = await api("GET", `/iam/v1/accounts/${acc}/groups`);
  groupId = groups.items[0].uuid;
});
after(async () => {
  await browser?.close();
});

async function tabTo(page, predicate, limit = 60) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(predicate)) return;
  }
  throw new Error(`focus never reached the element after ${limit} Tab presses`);
}

test("signing in and creating a group work with the keyboard alone, with visible focus", async () => {
  await withPage(browser, "keyboard", async (page) => {
    await page.goto("/console/sign-in");
    await tabTo(page, () => document.activeElement?.id === "token");
    await page.keyboard.type(TOKEN);
    await page.keyboard.press("Enter");
    await page.waitForURL("**/console");

    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Skip to content");
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, "none", "the focused element shows an outline");
    await page.keyboard.press("Enter");
    assert.equal(await page.evaluate(() => document.activeElement.id), "main");

    await page.goto("/console/groups");
    await tabTo(page, () => document.activeElement?.id === "group-name");
    await page.keyboard.type("Keyboard people");
    await page.keyboard.press("Tab");
    await page.keyboard.type("Made without a mouse.");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Create group");
    await page.keyboard.press("Enter");
    await page.getByRole("status").filter({ hasText: "Created group `Keyboard people`." }).waitFor();
  });
});

const PAGES = [
  "/console",
  "/console/groups",
  () => `/console/groups/${groupId}`,
  "/console/users",
  "/console/service-users",
  "/console/service-users/new",
  "/console/service-users/review",
  "/console/policies",
  "/console/policies/new",
  "/console/bindings",
  "/console/boundaries",
  "/console/boundaries/new",
  "/console/oauth-clients",
  "/console/tokens",
  "/console/workflows",
  "/console/audit",
  "/console/simulator?principal=admin%40warden.local&permission=iam%3Agroups%3Awrite",
];

for (const [name, viewport] of [["1280", WIDE], ["390", NARROW]]) {
  test(`every main page fits ${name} px without scrolling sideways, with labels and table headers`, async () => {
    await withPage(
      browser,
      `layout ${name}`,
      async (page) => {
        await signInWithToken(page);
        for (const entry of PAGES) {
          const path = typeof entry === "function" ? entry() : entry;
          const response = await page.goto(path);
          assert.equal(response.status(), 200, path);
          assert.deepEqual(await overflowing(page), [], `${path} at ${name} px`);
          const unlabelled = await page.evaluate(() =>
            [...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
              .filter((e) => e.labels.length === 0 && !e.getAttribute("aria-label"))
              .map((e) => e.name || e.id),
          );
          assert.deepEqual(unlabelled, [], `inputs without a label on ${path}`);
          const headless = await page.evaluate(() =>
            [...document.querySelectorAll("table")].filter((t) => t.querySelectorAll("th").length === 0).length,
          );
          assert.equal(headless, 0, `tables without headers on ${path}`);
        }
        if (name === "390") {
          await page.goto("/console/service-users");
          await shot(page, "service-users-390");
        } else {
          await page.goto("/console/audit");
          await shot(page, "audit-log");
        }
      },
      viewport,
    );
  });
}
