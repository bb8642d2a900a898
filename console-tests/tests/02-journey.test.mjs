// The administrators' daily path: a service user with its generated handle and email, a policy
// written wrong then right, bound to the service user's group after a preview, and the decision
// checked in the simulator. Writes the README's screenshots when asked to.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launch, shot, signInWithToken, withPage } from "../lib.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const HANDLE = "pipeline_automation@service";
const INVALID = 'ALLOW iam:groups:read;\nALLOW storage:logs:raed WHERE storage:bucket-name startsWith "ops_";\n';
const VALID = 'ALLOW iam:groups:read;\nALLOW storage:logs:read WHERE storage:bucket-name startsWith "ops_";\n';

test("create a service user and see its generated handle and email", async () => {
  await withPage(browser, "create service user", async (page) => {
    await signInWithToken(page);
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Service users" }).click();
    await page.getByRole("link", { name: "Add service user" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Pipeline Automation");
    await page.locator("#handle-preview", { hasText: HANDLE }).waitFor();
    await page.getByLabel("Description").fill("Deploys the shop from CI.");
    await page.getByLabel("Purpose").fill("Continuous deployment of the shop");
    await shot(page, "service-user-create");
    await page.getByRole("button", { name: "Create", exact: true }).click();

    const flash = page.getByRole("status").filter({ hasText: "Created service user" });
    await flash.waitFor();
    const text = await flash.textContent();
    assert.match(text, new RegExp(`handle \`${HANDLE}\``));
    const email = text.match(/email `([0-9a-f-]{36}@service\.warden\.local)`/)?.[1];
    assert.ok(email, `an email in ${text}`);
    await page.getByText(email).first().waitFor();

    // The daily path: Service users > the table > Actions > Edit.
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Service users" }).click();
    const row = page.getByRole("row").filter({ hasText: HANDLE });
    await row.getByText(email).waitFor();
    await shot(page, "service-users");
    await row.getByText("Actions").click();
    await row.getByRole("link", { name: "Edit" }).click();
    await page.getByRole("heading", { name: "Edit service user Pipeline Automation" }).waitFor();
    await page.getByLabel("Owner", { exact: true }).selectOption("USER");
    await page.getByLabel("Owner's email or group name").fill("admin@warden.local");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    await shot(page, "service-user-edit");
  });
});

test("write an invalid then a valid policy, bind it, and check a decision in the simulator", async () => {
  await withPage(browser, "policy binding simulator", async (page) => {
    await signInWithToken(page);
    await page.goto("/console/policies");
    await page.getByRole("link", { name: "New policy" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Deploy reads");
    const editor = page.getByLabel("Statements");

    // Live validation puts the error under line 2, with the fix.
    await editor.fill(INVALID);
    const diagnostic = page.locator('#diagnostics .diag.error[data-line="2"]');
    await diagnostic.waitFor();
    assert.match(await diagnostic.textContent(), /storage:logs:raed/);
    assert.match(await diagnostic.textContent(), /storage:logs:read/, "the suggestion");
    assert.equal(await editor.getAttribute("aria-invalid"), "true");
    await shot(page, "policy-editor-errors");

    // Saving anyway is refused, with the same diagnostic at its line.
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/console/policies") && r.request().method() === "POST"),
      page.getByRole("button", { name: "Create policy" }).click(),
    ]);
    assert.equal(refused.status(), 400);
    await page.getByRole("alert").filter({ hasText: "error" }).first().waitFor();
    await page.locator('#diagnostics .diag.error[data-line="2"]').waitFor();

    await page.getByLabel("Statements").fill(VALID);
    await page.locator('#diagnostics [data-errors="0"]').waitFor();
    await page.getByRole("button", { name: "Create policy" }).click();
    await page.waitForURL(/\/console\/policies\/account\/[0-9a-f-]{36}$/);
    await page.getByRole("status").filter({ hasText: "Created policy `Deploy reads`" }).waitFor();

    // Bind it to the service user's own group, after previewing who gains what.
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Bindings" }).click();
    await page.getByLabel("Policy", { exact: true }).selectOption({ label: "Deploy reads" });
    await page.getByLabel("Group", { exact: true }).selectOption({ label: `${HANDLE} (service user)` });
    await page.getByRole("button", { name: "Preview impact" }).click();
    const preview = page.locator("section", { hasText: "Preview of this binding" });
    await preview.getByRole("row").filter({ hasText: "iam:groups:read" }).filter({ hasText: "gains access" }).first().waitFor();
    await preview.getByText("conditions change").first().waitFor();
    await shot(page, "binding-preview");
    await page.getByRole("button", { name: "Bind", exact: true }).click();
    await page.getByRole("status").filter({ hasText: "Bound policy `Deploy reads`" }).waitFor();

    // The simulator: ALLOW with the deciding statement, DENY with the nearest miss.
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Access simulator" }).click();
    await page.getByLabel("Principal").fill(HANDLE);
    await page.getByLabel("Permission").fill("iam:groups:read");
    await page.getByRole("button", { name: "Decide" }).click();
    await page.locator('[data-decision="ALLOW"]').waitFor();
    await page.getByRole("row").filter({ hasText: "Deploy reads" }).first().waitFor();

    await page.getByLabel("Permission").fill("storage:logs:read");
    await page.getByLabel("Environment").selectOption("env-prod");
    await page.getByLabel("Attributes").fill("storage:bucket-name=dev_app");
    await page.getByRole("button", { name: "Decide" }).click();
    await page.locator('[data-decision="DENY"]').waitFor();
    const miss = page.getByRole("row").filter({ hasText: 'storage:bucket-name startsWith "ops_"' }).last();
    await miss.getByText('seen "dev_app"').waitFor();
    await shot(page, "simulator");
  });
});

test("the policy editor formats, diffs against the saved version and previews the impact", async () => {
  await withPage(browser, "policy diff and impact", async (page) => {
    await signInWithToken(page);
    await page.goto("/console/policies");
    await page.getByRole("link", { name: "Deploy reads" }).click();
    await page.getByLabel("Statements").fill("allow   iam:groups:read;");
    await page.getByRole("button", { name: "Format" }).click();
    assert.equal((await page.getByLabel("Statements").inputValue()).trim(), "ALLOW iam:groups:read;");
    await page.getByRole("button", { name: "Preview changes" }).click();
    await page.locator(".diff .del", { hasText: "storage:logs:read" }).waitFor();
    await page.getByRole("row").filter({ hasText: "storage:logs:read" }).filter({ hasText: "conditions change" }).first().waitFor();
    await shot(page, "policy-preview");
  });
});
