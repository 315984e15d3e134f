// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", ".bench-dist*/**", "node_modules/**", "eslint.config.js", "docs/examples/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "error",
      eqeqeq: ["error", "always"],
    },
  },
  {
    files: ["src/sip/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: ["**/registrant/**", "**/store/**", "**/mi/**", "**/events/**", "**/cluster/**", "**/status/**"] },
      ],
    },
  },
  {
    files: ["src/registrant/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: ["mariadb", "amqplib", "ws", "node:http"],
          patterns: ["**/store/*-store.js", "**/mi/**", "**/events/**", "**/cluster/**"],
        },
      ],
    },
  },
  {
    // the dashboard's browser modules: plain JS shipped as is, outside the TypeScript program
    files: ["src/dashboard/public/**/*.js"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: "module",
      globals: Object.fromEntries(
        [
          "window",
          "document",
          "location",
          "WebSocket",
          "fetch",
          "URL",
          "Option",
          "ResizeObserver",
          "requestAnimationFrame",
          "setTimeout",
          "clearTimeout",
        ].map((g) => [g, "readonly"]),
      ),
    },
  },
  {
    files: ["test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-floating-promises": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "no-console": "off",
    },
  },
);
