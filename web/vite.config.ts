import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// The build goes straight into the Go package that embeds it. Asset names
// carry a content hash, so the server can cache them for a year.
export default defineConfig({
  plugins: [preact()],
  build: {
    outDir: '../internal/webui/dist',
    emptyOutDir: true,
    target: 'es2020',
    // No inline <script> or data: modules, so the CSP can stay strict.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } },
  },
});
