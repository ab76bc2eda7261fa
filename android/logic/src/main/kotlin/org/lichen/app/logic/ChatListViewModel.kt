package org.lichen.app.logic

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import org.lichen.ChatKind
import org.lichen.ChatListDiff
import org.lichen.ChatListItem
import org.lichen.ChatListListener
import org.lichen.Chats
import org.lichen.TaskHandle

/** One row of the chat list as the screen draws it. */
data class ChatRow(
    val id: String,
    val kind: ChatKind,
    val title: String,
    val preview: String?,
    val unread: Int,
    /** What the badge shows: null for none (unread 0), "99+" past 99. */
    val badge: String?,
    val lastTimestamp: Long,
) {
    companion object {
        fun of(c: ChatListItem): ChatRow {
            val unread = c.unread.toInt()
            return ChatRow(
                id = c.id,
                kind = c.kind,
                title = c.title,
                preview = c.preview,
                unread = unread,
                badge = badge(unread),
                lastTimestamp = c.lastTimestamp,
            )
        }

        fun badge(unread: Int): String? = when {
            unread <= 0 -> null
            unread > 99 -> "99+"
            else -> unread.toString()
        }
    }
}

/**
 * The chat list: rows kept by applying the binding's diffs, the selection kept by chat id
 * (so a reorder, when a chat gets a new message and moves to the top, never moves the
 * highlight onto another chat), and the status strip.
 */
data class ChatListState(
    val rows: List<ChatRow> = emptyList(),
    /** The selected chat's id, or null. Survives reorders; cleared if the chat goes away. */
    val selectedId: String? = null,
    val status: StatusStrip = StatusStrip.UNKNOWN,
    /** Whether the first Reset came. */
    val loaded: Boolean = false,
) {
    /** Where the selected chat is now, or -1. */
    val selectedIndex: Int get() = rows.indexOfFirst { it.id == selectedId }
    val totalUnread: Int get() = rows.sumOf { it.unread }
}

class ChatListViewModel(private val chats: Chats) : AutoCloseable {
    private val lock = Any()
    private val items = mutableListOf<ChatListItem>()
    private val _state = MutableStateFlow(ChatListState())
    val state: StateFlow<ChatListState> = _state.asStateFlow()
    private var handle: TaskHandle? = null

    private val listener = object : ChatListListener {
        override fun onUpdate(diffs: List<ChatListDiff>) = applyDiffs(diffs)
    }

    /** Starts listening (a first Reset follows). */
    fun start() {
        synchronized(lock) {
            if (handle == null) handle = chats.subscribe(listener)
        }
    }

    /** Applies diffs; public so the screen's tests can feed lists without a node. */
    fun applyDiffs(diffs: List<ChatListDiff>) {
        synchronized(lock) {
            if (!Diffs.chatList(items, diffs)) {
                // Out of step with the stream: start over from a fresh Reset.
                handle?.cancel()
                handle = chats.subscribe(listener)
                return
            }
            val rows = items.map(ChatRow::of)
            _state.update { s ->
                val sel = s.selectedId?.takeIf { id -> rows.any { it.id == id } }
                s.copy(rows = rows, selectedId = sel, loaded = true)
            }
        }
    }

    fun select(chatId: String?) {
        _state.update { s -> s.copy(selectedId = chatId?.takeIf { id -> s.rows.any { it.id == id } }) }
    }

    fun setStatus(status: StatusStrip) {
        _state.update { it.copy(status = status) }
    }

    override fun close() {
        synchronized(lock) {
            handle?.cancel()
            handle = null
        }
    }
}
