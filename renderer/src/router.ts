/** The views, routed by the URL's hash (a path is a file of the bundle: see the host). */
import { createRouter, createWebHashHistory } from 'vue-router';

export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/datasets' },
    {
      path: '/datasets',
      name: 'datasets',
      component: () => import('./views/DatasetsView.vue'),
      meta: { title: 'Datasets' },
    },
    {
      path: '/datasets/:id',
      name: 'dataset',
      component: () => import('./views/DatasetView.vue'),
      props: (r) => ({ id: Number(r.params['id']) }),
      meta: { title: 'Dataset' },
    },
    {
      path: '/datasets/:id/annotate',
      name: 'annotate',
      component: () => import('./views/AnnotateView.vue'),
      props: (r) => ({ id: Number(r.params['id']) }),
      meta: { title: 'Annotate landmarks' },
    },
    { path: '/label', name: 'label', component: () => import('./views/LabelView.vue'), meta: { title: 'Label' } },
    {
      path: '/pretrain',
      name: 'pretrain',
      component: () => import('./views/PretrainView.vue'),
      meta: { title: 'Pre-train' },
    },
    {
      path: '/finetune',
      name: 'finetune',
      component: () => import('./views/FinetuneView.vue'),
      meta: { title: 'Fine-tune' },
    },
    { path: '/runs', name: 'runs', component: () => import('./views/RunsView.vue'), meta: { title: 'Runs' } },
    {
      path: '/runs/:id',
      name: 'run',
      component: () => import('./views/RunView.vue'),
      props: (r) => ({ id: String(r.params['id']) }),
      meta: { title: 'Run' },
    },
    {
      path: '/compare',
      name: 'compare',
      component: () => import('./views/CompareView.vue'),
      props: (r) => ({
        ids: String(r.query['runs'] ?? '')
          .split(',')
          .filter(Boolean),
      }),
      meta: { title: 'Compare' },
    },
    { path: '/system', name: 'system', component: () => import('./views/SystemView.vue'), meta: { title: 'System' } },
  ],
});

router.afterEach((to) => {
  document.title = `${String(to.meta['title'] ?? '')} · CAMD Studio`;
});
