# Plaza's build shortcuts. Go needs nothing from here: the web client's
# build is committed in internal/webui/dist.

.PHONY: web build build-noui test e2e

# web rebuilds the web client into internal/webui/dist.
web:
	cd web && npm ci && npm run build

build:
	go build -o plaza ./cmd/plaza

# build-noui builds an API-only binary without the web client.
build-noui:
	go build -tags noui -o plaza ./cmd/plaza

test:
	go test ./...

# e2e runs the browser tests against the real binary (needs Debian's chromium).
e2e:
	cd web && npm ci
	node --test web/e2e/
