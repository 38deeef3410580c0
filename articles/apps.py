from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Archive"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from articles import cache, checks  # noqa: F401 - registers the system check

        # Curators' saves and deletes (admin, shell) make cached pages out of date;
        # the loaders and bulk admin actions call cache.changed() themselves.
        # The search outbox is bookkeeping no page shows; a receiver on it would also
        # turn each catch-up's one DELETE into a signal and an UPDATE per article.
        bookkeeping = {"SearchOutbox"}
        for model in self.get_models():  # proxies too: their signals name the proxy
            if model.__name__ in bookkeeping:
                continue
            post_save.connect(cache.changed, sender=model, dispatch_uid=f"cache-{model.__name__}")
            post_delete.connect(
                cache.changed, sender=model, dispatch_uid=f"cache-{model.__name__}-d"
            )
