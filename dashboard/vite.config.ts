import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// Built by scripts/build-dashboard.mjs (root: this folder) and served by src/dashboard/routes.ts at /dashboard.
// The server's CSP allows no inline script or style, so nothing here may inline either.
export default defineConfig({
  base: '/dashboard/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Browsers that run ES2022 support modulepreload; the polyfill would be one more script for nothing.
    modulePreload: { polyfill: false },
    // Everything as files under /dashboard/assets (hashed, cached immutable): nothing as data: URLs.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 400,
  },
  // `npx vite dashboard` for development: the API (and its session cookie) through the dev server.
  server: { proxy: { '/v1': { target: process.env.KASSA_API ?? 'http://127.0.0.1:8000' } } },
})
