// Package docs embeds the OpenAPI description of livemod's endpoints
// (openapi.yaml), which the server serves at /v1/openapi.yaml.
package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
