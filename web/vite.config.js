// The dashboard is built by the project's build (src/web/CMakeLists.txt passes --outDir)
// and embedded into the sluice binary; nothing is loaded from elsewhere at run time.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: {
    target: 'es2020',
    sourcemap: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1024,
  },
});
