// Set by extension/scripts/build.mjs when it bundles the tests.
declare const __REPO_ROOT__: string;
