// Builds Accord's front-end assets from npm packages into accord/web/static/vendor.
// Run by `npm run build` (the Makefile does this); the output is not committed.
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const out = join(root, "accord", "web", "static", "vendor");
const modules = join(root, "node_modules");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "govuk"), { recursive: true });

const css = sass.compile(join(root, "accord", "web", "assets", "accord.scss"), {
  loadPaths: [modules],
  style: "compressed",
  quietDeps: true,
  silenceDeprecations: ["import"],
});
writeFileSync(join(out, "accord.css"), css.css);

cpSync(join(modules, "govuk-frontend", "dist", "govuk", "govuk-frontend.min.js"), join(out, "govuk", "govuk-frontend.min.js"));
cpSync(join(modules, "govuk-frontend", "dist", "govuk", "assets", "images"), join(out, "govuk", "assets", "images"), { recursive: true });
cpSync(join(modules, "htmx.org", "dist", "htmx.min.js"), join(out, "htmx.min.js"));
console.log(`Built front-end assets into ${out}`);
