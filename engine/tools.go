//go:build tools

// Package engine is the project's Go build module for the Pulumi engine (npm run engine:install): it requires
// each piece at the version package-lock.json pins and restates the replace directives of that piece's go.mod,
// which Go applies only in the main module.
package engine

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
