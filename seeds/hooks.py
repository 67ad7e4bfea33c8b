"""The Todo app's seed hooks, found by every profile of this seed directory (docs/seed.md).

They live with the app, in todoctl/todo/seed_hooks.py: the task texts and the rules between a
task's status and its dates.
"""

from todoctl.todo.seed_hooks import statuses_agree_with_dates, task_descriptions, task_titles  # noqa: F401
