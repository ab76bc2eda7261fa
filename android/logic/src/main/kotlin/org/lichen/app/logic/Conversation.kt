package org.lichen.app.logic

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import org.lichen.ChatMessage
import org.lichen.Conversation
import org.lichen.DeliveryState
import org.lichen.SyncProgress
import org.lichen.TaskHandle
import org.lichen.TimelineDiff
import org.lichen.TimelineListener

/** The mark beside one of my messages, and what it means (the legend shows all of them). */
enum class DeliveryMark(val symbol: String, val meaning: String) {
    WRITTEN("○", "written on this phone, not sent yet"),
    SENT("◔", "handed to a link (dongle, phone or relay)"),
    STORED("◑", "another device holds it"),
    DELIVERED("✓", "arrived on their phone"),
    READ("✓✓", "they read it"),
    ;

    companion object {
        fun of(s: DeliveryState): DeliveryMark = when (s) {
            DeliveryState.WRITTEN -> WRITTEN
            DeliveryState.SENT -> SENT
            DeliveryState.STORED -> STORED
            DeliveryState.DELIVERED -> DELIVERED
            DeliveryState.READ -> READ
        }

        /** The legend, in the order a message passes through the states. */
        val LEGEND: List<DeliveryMark> = entries.toList()
    }
}

data class MessageRow(
    val id: String,
    val author: String,
    val authorName: String,
    val mine: Boolean,
    val text: String,
    val mark: DeliveryMark?,
    val timestamp: Long,
) {
    companion object {
        fun of(m: ChatMessage): MessageRow = MessageRow(
            id = m.id,
            author = m.author,
            authorName = m.authorName,
            mine = m.mine,
            text = m.text ?: when {
                m.unreadable != null -> "(cannot be read: ${m.unreadable})"
                m.hasVoice -> "(voice message)"
                else -> ""
            },
            mark = m.state?.let(DeliveryMark::of),
            timestamp = m.timestamp,
        )
    }
}

data class ConversationState(
    val messages: List<MessageRow> = emptyList(),
    val loaded: Boolean = false,
    /** Whether older history may exist (page back to load it). */
    val mayHaveOlder: Boolean = true,
    /** Members whose posts are still arriving (side chains incomplete here). */
    val stillArriving: List<String> = emptyList(),
    val draft: String = "",
    val draftHint: SizeHint? = null,
    val error: String? = null,
)

/**
 * One conversation: the paged timeline kept by the binding's diffs, compose with a size
 * hint, "still arriving" from sync progress, and reading that clears the badge: while the
 * conversation is on screen, every message that arrives is marked read.
 */
class ConversationViewModel(
    private val conversation: Conversation,
    private val members: List<String>,
    private val pageSize: Int = 50,
) : AutoCloseable {
    private val lock = Any()
    private val items = mutableListOf<ChatMessage>()
    private val _state = MutableStateFlow(ConversationState())
    val state: StateFlow<ConversationState> = _state.asStateFlow()
    private var handle: TaskHandle? = null
    @Volatile private var visible = false
    @Volatile private var unreadSeen = false

    private val listener = object : TimelineListener {
        override fun onUpdate(diffs: List<TimelineDiff>) = applyDiffs(diffs)
    }

    val id: String get() = conversation.id()

    fun start() {
        synchronized(lock) {
            if (handle == null) handle = conversation.subscribe(listener, pageSize.toUInt())
        }
    }

    fun applyDiffs(diffs: List<TimelineDiff>) {
        synchronized(lock) {
            if (!Diffs.timeline(items, diffs)) {
                handle?.cancel()
                handle = conversation.subscribe(listener, pageSize.toUInt())
                return
            }
            if (diffs.any { it is TimelineDiff.Append || it is TimelineDiff.Insert || it is TimelineDiff.Reset }) {
                unreadSeen = true
            }
            val rows = items.map(MessageRow::of)
            _state.update { it.copy(messages = rows, loaded = true) }
        }
    }

    /** The screen is shown (true) or left (false). Shown, arrivals count as read. */
    suspend fun setVisible(shown: Boolean) {
        visible = shown
        if (shown) markReadIfShown()
    }

    /** Marks the chat read if it is on screen and something came since the last time. */
    suspend fun markReadIfShown() {
        if (visible && unreadSeen) {
            unreadSeen = false
            conversation.markRead()
        }
    }

    /** Loads an older page; false once the beginning is reached. */
    suspend fun loadOlder(): Boolean {
        val more = conversation.pageBack(pageSize.toUInt())
        _state.update { it.copy(mayHaveOlder = more) }
        return more
    }

    fun editDraft(text: String) {
        _state.update { it.copy(draft = text, draftHint = SizeHint.of(text, members.size)) }
    }

    /** Sends the draft; on failure the draft stays and the error is shown. */
    suspend fun send(): ChatMessage? {
        val text = _state.value.draft
        if (text.isBlank()) return null
        return try {
            val m = conversation.send(text)
            _state.update { it.copy(draft = "", draftHint = null, error = null) }
            m
        } catch (e: Exception) {
            _state.update { it.copy(error = e.forPerson("sending failed")) }
            null
        }
    }

    /** Whose posts are still arriving, from the node's sync progress. */
    fun updateSync(progress: SyncProgress) {
        val arriving = progress.behind.filter { it.openChains > 0u && it.feedId in members }.map { it.feedId }
        _state.update { it.copy(stillArriving = arriving) }
    }

    override fun close() {
        synchronized(lock) {
            handle?.cancel()
            handle = null
        }
    }
}
