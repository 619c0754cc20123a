# Pinned versions of everything setup builds or checks. Sourced by setup/setup.sh; read by
# lib/tools (doctor, env) so there is one place to bump.
# Pulumi CLI == @pulumi/pulumi in package.json. 3.276.0 is the newest release both the Go module
# proxy (pkg/v3, sdk/v3) and the npm registry serve here (npm has no 3.271-3.275; the proxy
# refuses pkg/v3 3.270.0).
PULUMI_VERSION=3.276.0
# == @pulumi/command in package.json (its engine plugin is built from setup/go/command-provider).
COMMAND_VERSION=1.2.1
# The YAML language host (examples/yaml), built from its own module against the Pulumi SDK release it
# requires (v1.25.0 does not build against pkg/v3 3.276.0); it speaks the engine's plugin protocol.
PULUMI_YAML_VERSION=1.25.0
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
# MinIO's admin client, for the local cloud's B2 keys (users and policies through MinIO's admin API,
# whose request bodies are encrypted). The version MINIO_VERSION's own go.mod requires; it is also
# the newest the Go module proxy serves (mc publishes no semver tags).
MC_VERSION=v0.0.0-20250313080218-cf909e1063a9
S5CMD_VERSION=2.3.0
NODE_VERSION=24.21.0
# pkg/v3 and sdk/v3 3.276.0 declare go 1.26.6.
GO_MIN_VERSION=1.26.6
