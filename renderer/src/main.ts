import './api.js'; // first: configures zod for the CSP
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import App from './App.vue';
import { router } from './router.js';

createApp(App).use(createPinia()).use(router).mount('#app');
