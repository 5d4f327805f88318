/**
 * lib/transpileCache.js, the loader start.js runs the program through: each
 * case runs a fresh Node process, as the language host does, against a
 * project folder of its own with the repository's TypeScript.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const repo = path.resolve(__dirname, "../../..");
let root: string;
let cacheDir: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "ef-transpile-"));
  cacheDir = path.join(root, "cache");
  fs.copyFileSync(path.join(repo, "tsconfig.json"), path.join(root, "tsconfig.json"));
  fs.symlinkSync(path.join(repo, "node_modules"), path.join(root, "node_modules"));
  // An enum and `export =`: TypeScript that type stripping alone cannot run.
  fs.writeFileSync(path.join(root, "b.ts"), "export enum E { A = 41 }\nexport const b: number = E.A;\n");
  fs.writeFileSync(path.join(root, "a.ts"), 'import { b } from "./b";\nexport = { v: b + 1 };\n');
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** Loads a.ts in a new process; what it exported and whether the compiler was loaded. */
function run(): { v: number; compiler: boolean; typescriptRequired: boolean } {
  const script = `
    const { register } = require(${JSON.stringify(path.join(repo, "lib/transpileCache.js"))});
    const hook = register({ root: ${JSON.stringify(root)}, cacheDir: ${JSON.stringify(cacheDir)} });
    const m = require(${JSON.stringify(path.join(root, "a"))});
    const typescriptRequired = Object.keys(require.cache).some((f) => f.includes("/node_modules/typescript/"));
    console.log(JSON.stringify({ v: m.v, compiler: hook.compilerLoaded(), typescriptRequired }));`;
  return JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd: root, encoding: "utf8" }));
}
const cached = () => fs.readdirSync(cacheDir).sort();

test("the first run transpiles each file and keeps it; the next one never loads the compiler", () => {
  expect(run()).toEqual({ v: 42, compiler: true, typescriptRequired: true });
  expect(cached()).toHaveLength(2);
  expect(run()).toEqual({ v: 42, compiler: false, typescriptRequired: false });
  expect(cached()).toHaveLength(2);
});

test("a changed file is transpiled again; the unchanged one comes from the cache", () => {
  run();
  const before = cached();
  fs.writeFileSync(path.join(root, "b.ts"), "export enum E { A = 1 }\nexport const b: number = E.A;\n");
  expect(run()).toEqual({ v: 2, compiler: true, typescriptRequired: true });
  const after = cached();
  expect(after).toHaveLength(3);
  expect(after.filter((f) => before.includes(f))).toHaveLength(2);
});

test("a changed tsconfig.json invalidates every file", () => {
  run();
  const config = JSON.parse(fs.readFileSync(path.join(root, "tsconfig.json"), "utf8"));
  config.compilerOptions.target = "es2021";
  fs.writeFileSync(path.join(root, "tsconfig.json"), JSON.stringify(config));
  expect(run()).toEqual({ v: 42, compiler: true, typescriptRequired: true });
  expect(cached()).toHaveLength(4);
});

test("an unwritable cache folder still runs the program", () => {
  fs.writeFileSync(cacheDir, "not a folder");
  expect(run()).toEqual({ v: 42, compiler: true, typescriptRequired: true });
  expect(run().v).toBe(42);
});

test("start.js is the program's entry, and Pulumi.yaml turns the language host's ts-node off", () => {
  const project = fs.readFileSync(path.join(repo, "Pulumi.yaml"), "utf8");
  expect(project).toMatch(/^main: start\.js$/m);
  expect(project).toMatch(/^\s+typescript: false$/m);
});
