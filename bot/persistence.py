"""The state file of the bot: conversation steps and user_data across restarts.

PTB's PicklePersistence keeps an ended conversation as `key: None` forever, so the file
would collect the Telegram ids of everyone who ever started /dangky. An ended conversation
means the same as no entry, so this subclass removes the entry instead (data minimisation,
Nghị định 13/2023/NĐ-CP).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from telegram.ext import PicklePersistence
from telegram.ext._utils.types import ConversationKey


class StatePersistence(PicklePersistence[Any, Any, Any]):
    """PicklePersistence that forgets ended conversations instead of storing None for them."""

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Stores a conversation's new state; an ended one (None) is removed from the file."""
        if new_state is not None:
            await super().update_conversation(name, key, new_state)
            return
        if self.conversations is None or key not in self.conversations.get(name, {}):
            return
        del self.conversations[name][key]
        if self.on_flush:
            return
        # The same writes as the parent's update_conversation.
        if self.single_file:
            self._dump_singlefile()
        else:
            self._dump_file(Path(f"{self.filepath}_conversations"), self.conversations)
