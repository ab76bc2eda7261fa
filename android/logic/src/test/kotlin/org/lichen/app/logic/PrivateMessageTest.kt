package org.lichen.app.logic

import java.util.Collections
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.lichen.ChatKind

/** What a notification manager was asked to do. */
class RecordingNotifier : Notifier {
    val shown: MutableList<Alert> = Collections.synchronizedList(mutableListOf())
    val cleared: MutableList<String> = Collections.synchronizedList(mutableListOf())
    override fun show(alert: Alert): Boolean { shown += alert; return true }
    override fun clearChat(chatId: String) { cleared += chatId }
}

class PrivateMessageTest {
    @Test
    fun unreadGoesToOneThenZeroAndTheSenderSeesRead() = runBlocking {
        val a = createRoot(tempDir("a"))
        val b = createRoot(tempDir("b"))
        try {
            val convA = ConversationViewModel(a.chats().withPeople(listOf(b.feedId())), listOf(a.feedId(), b.feedId()))
            convA.start()
            waitFor("A's timeline") { convA.state.value.loaded.takeIf { it } }
            val listB = ChatListViewModel(b.chats())
            listB.start()
            waitFor("B's list") { listB.state.value.loaded.takeIf { it } }

            convA.editDraft("hello B, only for you")
            assertTrue("a private message needs several packets", convA.state.value.draftHint!!.show)
            val sent = convA.send()!!
            assertEquals("", convA.state.value.draft)
            assertEquals(DeliveryMark.WRITTEN, waitFor("A's row") { convA.state.value.messages.firstOrNull() }.mark)

            val listener = b.links().listenWs("127.0.0.1:0")
            a.links().dialWs(listener.url(), 5000u)

            // B: the chat arrives with unread 1, its badge "1" and the text as preview.
            val row = waitFor("the chat at B with unread 1") {
                listB.state.value.rows.firstOrNull { it.kind == ChatKind.ONE_TO_ONE && it.unread == 1 }
            }
            assertEquals("1", row.badge)
            assertEquals("hello B, only for you", row.preview)
            assertEquals(convA.id, row.id)
            assertEquals(1, listB.state.value.totalUnread)

            // The notification comes from B's acknowledged event queue.
            val notifier = RecordingNotifier()
            val pump = EventPump(b, notifier, NotificationPolicy { null })
            withTimeout(30_000) { while (notifier.shown.none { it is Alert.Message }) pump.handleNext() }
            val alert = notifier.shown.filterIsInstance<Alert.Message>().single()
            assertEquals(row.id, alert.chatId)
            assertEquals("hello B, only for you", alert.text)

            // B opens the chat: on screen, it is read, and the badge clears.
            listB.select(row.id)
            val convB = ConversationViewModel(b.chats().conversation(row.id), listOf(a.feedId(), b.feedId()))
            convB.start()
            waitFor("B's timeline") { convB.state.value.messages.takeIf { it.isNotEmpty() } }
            assertEquals(listOf(false), convB.state.value.messages.map { it.mine })
            convB.setVisible(true)
            val cleared = waitFor("B's unread to drop") {
                listB.state.value.rows.firstOrNull { it.id == row.id && it.unread == 0 }
            }
            assertNull(cleared.badge)
            assertEquals(0, listB.state.value.totalUnread)
            assertEquals(row.id, listB.state.value.rows[listB.state.value.selectedIndex].id)

            // A sees its message reach "read".
            waitFor("read at A", 60_000) {
                convA.state.value.messages.firstOrNull { it.id == sent.id && it.mark == DeliveryMark.READ }
            }
            convA.close(); convB.close(); listB.close()
        } finally {
            a.shutdown()
            b.shutdown()
        }
    }

    @Test
    fun sizeHintCountsPackets() {
        assertEquals(1, SizeHint.of("hi", 0).packets)
        assertEquals(1, SizeHint.packets(47))
        assertEquals(2, SizeHint.packets(48))
        assertEquals(2, SizeHint.packets(127))
        assertEquals(3, SizeHint.packets(128))
        assertTrue(SizeHint.of("x".repeat(400), 0).packets >= 5)
    }
}
