package org.lichen.app.logic

import org.lichen.ChatMessage
import org.lichen.Lichen
import org.lichen.LichenEvent
import org.lichen.PairingStatus

/** What the notification layer shows. Chats are grouped one conversation per chat. */
sealed interface Alert {
    data class Message(
        val chatId: String,
        val messageId: String,
        val sender: String,
        val text: String,
    ) : Alert

    data class KeyRecovered(val held: Int) : Alert
    data class ForkDetected(val seq: Int) : Alert
    data class Warning(val text: String) : Alert
    data class DongleGone(val name: String, val minutes: Long) : Alert
    data class DongleFull(val name: String) : Alert
}

/** The Android layer's NotificationManager, thin. */
interface Notifier {
    /** Posts [alert]; true once it is shown (or deliberately not needed). */
    fun show(alert: Alert): Boolean

    /** The chat was read: its conversation notification goes. */
    fun clearChat(chatId: String)
}

/** Which events become notifications. */
class NotificationPolicy(
    /** The chat on screen now, if the app is in front (its messages are not notified). */
    private val chatOnScreen: () -> String?,
) {
    fun decide(event: LichenEvent, message: ChatMessage?): Alert? = when (event) {
        is LichenEvent.MessageReceived -> when {
            event.chatId == chatOnScreen() -> null
            message == null || message.mine -> null
            else -> Alert.Message(
                chatId = event.chatId,
                messageId = event.messageId,
                sender = message.authorName,
                text = message.text ?: if (message.hasVoice) "voice message" else "new message",
            )
        }
        is LichenEvent.KeyRecovered -> Alert.KeyRecovered(event.held.toInt())
        is LichenEvent.ForkDetected -> Alert.ForkDetected(event.seq.toInt())
        is LichenEvent.Warning -> Alert.Warning(event.message)
    }
}

/**
 * Drains the acknowledged event queue into notifications: an event is acknowledged only
 * once it was shown (or deliberately dropped), so one that arrives just before the process
 * dies is shown after the next start.
 */
class EventPump(
    private val root: Lichen,
    private val notifier: Notifier,
    private val policy: NotificationPolicy,
) {
    /** Handles the next event (waits for one); true if it was acknowledged. */
    suspend fun handleNext(): Boolean {
        val event = root.nextEvent()
        val message = (event as? LichenEvent.MessageReceived)?.let {
            try {
                root.chats().message(it.messageId)
            } catch (e: Exception) {
                null
            }
        }
        val alert = policy.decide(event, message)
        if (alert != null && !notifier.show(alert)) return false
        root.eventHandled()
        return true
    }

    suspend fun run() {
        while (true) {
            if (!handleNext()) kotlinx.coroutines.delay(1000)
        }
    }
}

/**
 * Alerts about the dongle from its status: gone for longer than [goneAfterMs] (once per
 * outage), full (once until it is not). Pure, on an injected clock.
 */
class DongleWatch(private val goneAfterMs: Long = 15 * 60_000L) {
    private var downSince: Long? = null
    private var goneSent = false
    private var fullSent = false

    fun observe(status: PairingStatus?, nowMs: Long): List<Alert> {
        val link = status?.link ?: return emptyList()
        val name = status.paired.name
        val out = mutableListOf<Alert>()
        if (link.connected) {
            downSince = null
            goneSent = false
        } else {
            val since = downSince ?: nowMs.also { downSince = it }
            if (!goneSent && nowMs - since >= goneAfterMs) {
                goneSent = true
                out += Alert.DongleGone(name, (nowMs - since) / 60_000L)
            }
        }
        val full = link.dongleFull
        if (full && !fullSent) out += Alert.DongleFull(name)
        fullSent = full
        return out
    }
}
