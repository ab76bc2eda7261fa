package org.lichen.app.logic

import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.lichen.DongleLinkStatus
import org.lichen.DongleSync
import org.lichen.LichenBuilder
import org.lichen.LichenEvent
import org.lichen.PairedDongle
import org.lichen.PairingStatus

class NotificationsTest {
    /** An event shown but not acknowledged before the process died is shown again. */
    @Test
    fun anEventNotAcknowledgedComesBackAfterARestart() = runBlocking {
        val dirB = tempDir("nb")
        val a = createRoot(tempDir("na"))
        var b = createRoot(dirB)
        try {
            val listener = b.links().listenWs("127.0.0.1:0")
            a.links().dialWs(listener.url(), 5000u)
            a.chats().sendTo(listOf(b.feedId()), "are you there?")
            val first = withTimeout(60_000) {
                var e: LichenEvent = b.nextEvent()
                while (e !is LichenEvent.MessageReceived) { b.eventHandled(); e = b.nextEvent() }
                e
            }
            // The process dies before eventHandled().
            b.shutdown()
            b = LichenBuilder(dirB.absolutePath).open()
            val notifier = RecordingNotifier()
            val pump = EventPump(b, notifier, NotificationPolicy { null })
            withTimeout(30_000) { while (notifier.shown.none { it is Alert.Message }) pump.handleNext() }
            val m = notifier.shown.filterIsInstance<Alert.Message>().single()
            assertEquals(first.messageId, m.messageId)
            assertEquals("are you there?", m.text)
            assertNull("acknowledged: nothing left", b.peekEvent())
        } finally {
            a.shutdown()
            b.shutdown()
        }
    }

    @Test
    fun theChatOnScreenIsNotNotified() {
        val policy = NotificationPolicy { "chat-1" }
        assertNull(policy.decide(LichenEvent.MessageReceived("chat-1", "m"), null))
        assertTrue(policy.decide(LichenEvent.ForkDetected(7u), null) is Alert.ForkDetected)
    }

    @Test
    fun aDongleGoneForLongOrFullAlertsOnce() {
        fun st(connected: Boolean, full: Boolean = false) = PairingStatus(
            PairedDongle("id", "tinySSB-1", "bluetooth", 0u),
            DongleLinkStatus(
                "waiting", connected, null, null, 0u, 0u,
                // The sentence is for people; the alert must follow the typed state.
                "in sync",
                if (full) DongleSync.Full(4u, 3u) else DongleSync.Agreed(3u, false),
                full, null, null, 0u,
            ),
        )
        val w = DongleWatch(goneAfterMs = 60_000)
        assertEquals(emptyList<Alert>(), w.observe(st(true), 0))
        assertEquals(emptyList<Alert>(), w.observe(st(false), 1_000))
        assertEquals(listOf(Alert.DongleGone("tinySSB-1", 1)), w.observe(st(false), 61_000))
        assertEquals(emptyList<Alert>(), w.observe(st(false), 120_000))
        assertEquals(listOf(Alert.DongleFull("tinySSB-1")), w.observe(st(true, true), 130_000))
        assertEquals(emptyList<Alert>(), w.observe(st(true, true), 140_000))
    }
}
