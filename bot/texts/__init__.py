"""Every text the bot shows to users, in one place, so wording changes never touch handlers.

Adapters read them as `from bot import texts; texts.WELCOME`. Each feature keeps its texts in
its own module (`common`, `eligibility`, `leads`, `staff`, `admin`); edit inside yours only.
A name belongs to one module (`tests/bot/test_texts.py` checks it).
"""

from bot.texts.admin import *  # noqa: F403
from bot.texts.common import *  # noqa: F403
from bot.texts.eligibility import *  # noqa: F403
from bot.texts.leads import *  # noqa: F403
from bot.texts.staff import *  # noqa: F403
