#!/usr/bin/env bash
# Builds, checks and packages the ManySkills VS Code extension (used by CI).
# Produces editors/vscode/manyskills-<version>.vsix. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")"

npm ci
npm run compile
npm run lint
npm test
npm run package
