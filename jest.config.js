// Two projects: `unit` (pure functions and Pulumi mocks, seconds) and
// `integration` (the real CLI, the lab hosts; minutes). The README test
// command runs both; `npm run test:unit` is the quick loop.
const base = {
  preset: "ts-jest",
  testEnvironment: "node",
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: { warnOnly: false }, isolatedModules: true }] },
};
module.exports = {
  projects: [
    { ...base, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts", "<rootDir>/test/policy/**/*.test.ts"] },
    { ...base, displayName: "integration", testMatch: ["<rootDir>/test/integration/**/*.test.ts"] },
  ],
};
