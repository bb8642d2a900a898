// Shared helpers of the console's browser tests: the browser, signing in, screenshots.
//
// The runner (./run) starts `warden serve` and passes WARDEN_URL and WARDEN_TOKEN_FILE.
// With WARDEN_SCREENSHOTS set (./run --screenshots), the tests also write the README's
// screenshots there.
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const BASE = process.env.WARDEN_URL ?? "http://127.0.0.1:8080";
export const TOKEN = readFileSync(process.env.WARDEN_TOKEN_FILE ?? "warden-admin-token", "utf8").trim();
const FAILURES = new URL("./failures/", import.meta.url).pathname;
const SCREENSHOTS = process.env.WARDEN_SCREENSHOTS ?? "";

export const WIDE = { width: 1280, height: 900 };
export const NARROW = { width: 390, height: 844 };

// Debian's Chromium, kept off the network: no background fetches, no component updates.
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-default-apps",
      "--disable-extensions",
    ],
  });
}

function fileName(name) {
  return name.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "").toLowerCase() + ".png";
}

// Runs `body(page)` in a fresh context; on failure, saves a screenshot to failures/ and rethrows.
export async function withPage(browser, name, body, viewport = WIDE) {
  const context = await browser.newContext({ viewport, baseURL: BASE });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const dialogs = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  try {
    await body(page, dialogs);
  } catch (error) {
    mkdirSync(FAILURES, { recursive: true });
    const path = join(FAILURES, fileName(name));
    await page.screenshot({ path, fullPage: true }).catch(() => {});
    error.message += `\n  screenshot: ${path}\n  page: ${page.url()}`;
    throw error;
  } finally {
    await context.close();
  }
}

// Signs in with the administrator's token (or another one) and lands on the overview.
export async function signInWithToken(page, token = TOKEN) {
  await page.goto("/console/sign-in");
  await page.getByLabel("Token", { exact: true }).fill(token);
  await page.getByRole("button", { name: "Sign in with the token" }).click();
  await page.waitForURL("**/console");
}

export async function signInWithPassword(page, email, password) {
  await page.goto("/console/sign-in");
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

// Writes a README screenshot when asked to (./run --screenshots).
export async function shot(page, name) {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, name + ".png"), fullPage: true });
}

// The JSON API, for setting up what a test needs.
export async function api(method, path, body, token = TOKEN) {
  const response = await fetch(BASE + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return json;
}

export async function account() {
  return (await api("GET", "/iam/v1/me")).account;
}

// Elements that stick out of the viewport on the right (the page must never scroll sideways).
export async function overflowing(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const out = [];
    if (document.documentElement.scrollWidth > width) {
      out.push(`document is ${document.documentElement.scrollWidth}px wide, viewport ${width}px`);
    }
    for (const element of document.body.querySelectorAll("*")) {
      const rect = element.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0) continue;
      let hidden = false; // inside a visually hidden element (clipped to 1 px)
      for (let e = element; e && e !== document.body; e = e.parentElement) {
        const style = getComputedStyle(e);
        if (style.position === "absolute" && style.clip !== "auto") hidden = true;
      }
      if (hidden) continue;
      if (rect.right > width + 1) {
        const id = element.id ? `#${element.id}` : "";
        const cls = element.className && typeof element.className === "string" ? `.${element.className.split(" ").join(".")}` : "";
        out.push(`${element.tagName.toLowerCase()}${id}${cls} ends at ${Math.round(rect.right)}px`);
      }
    }
    return out.slice(0, 10);
  });
}
