// The root object through the Kotlin binding (JNA, the host library): two roots in temp dirs,
// linked over WebSocket loopback on real sockets, real sled stores.
package org.lichen.test

import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.lichen.ChatException
import org.lichen.ChatKind
import org.lichen.DeliveryState
import org.lichen.KeyIs
import org.lichen.LichenBuilder
import org.lichen.LinkException
import org.lichen.SetupException
import org.lichen.TimelineDiff
import java.io.File

class AppTest {
    @Test
    fun aPrivateMessageGoesFromWrittenToRead(): Unit = runBlocking {
        val tmp = tempDir("app")
        val a = createRoot(tmp, "a")
        val b = createRoot(tmp, "b")
        try {
            val aId = a.feedId()
            val bId = b.feedId()
            // A's conversation with B, watched before anything is written.
            val convA = a.chats().withPeople(listOf(bId))
            val tlA = TimelineRecorder()
            val hTlA = convA.subscribe(tlA, 50u)
            waitUntil("a's first reset") { tlA.resets == 1 }
            assertEquals(emptyList<Any>(), tlA.snapshot())
            val lstB = ListRecorder()
            val hLstB = b.chats().subscribe(lstB)
            waitUntil("b's first reset") { lstB.resets == 1 }
            assertEquals(setOf(ChatKind.PUBLIC, ChatKind.NOTES), lstB.snapshot().map { it.kind }.toSet())

            // Written while no link is up: it stays written.
            val sent = convA.send("hello B, only for you")
            assertEquals(DeliveryState.WRITTEN, sent.state)
            assertTrue(sent.mine)
            assertEquals(convA.id(), sent.chatId)
            waitUntil("a's append") { tlA.snapshot().size == 1 }
            assertTrue(tlA.diffs()[1] is TimelineDiff.Append)
            assertEquals(DeliveryState.WRITTEN, tlA.snapshot()[0].state)

            // Link them over loopback: B listens on a free port, A dials it.
            val listener = b.links().listenWs("127.0.0.1:0")
            val link = a.links().dialWs(listener.url(), 5000u)
            assertEquals("ws", link.kind())

            // B's chat list shows the chat with unread 1 and the text as preview.
            fun bChat() = lstB.snapshot().firstOrNull { it.kind == ChatKind.ONE_TO_ONE }
            val chat = waitFor("the chat at b") { bChat()?.takeIf { it.unread == 1u } }
            assertEquals("hello B, only for you", chat.preview)
            assertEquals(listOf(aId, bId).sorted(), chat.members.sorted())
            assertEquals(convA.id(), chat.id)

            // B's timeline gets it.
            val convB = b.chats().conversation(chat.id)
            val tlB = TimelineRecorder()
            val hTlB = convB.subscribe(tlB, 50u)
            val got = waitFor("b's timeline") { tlB.snapshot().ifEmpty { null } }
            assertEquals(
                listOf(Triple<String?, Boolean, String>("hello B, only for you", false, aId)),
                got.map { Triple(it.text, it.mine, it.author) },
            )

            // Delivered (B's device confirms) before read; B marks it read.
            waitUntil("delivered") { tlA.snapshot()[0].state == DeliveryState.DELIVERED }
            convB.markRead()
            waitUntil("b's unread to drop") { bChat()?.unread == 0u }
            waitUntil("read") { tlA.snapshot()[0].state == DeliveryState.READ }

            // A saw a Reset first, then each state as a Set of the one item, in order.
            val diffs = tlA.diffs()
            assertTrue("first diff ${diffs[0]}", diffs[0] is TimelineDiff.Reset)
            val sets = diffs.filterIsInstance<TimelineDiff.Set>()
            assertEquals(
                listOf(DeliveryState.SENT, DeliveryState.STORED, DeliveryState.DELIVERED, DeliveryState.READ)
                    .map { 0u to it },
                sets.map { it.index to it.value.state },
            )
            assertTrue(sets.all { it.value.id == sent.id })

            // The list is plain records, readable without a listener too.
            val listed = b.chats().list()
            assertEquals(listOf(0u), listed.filter { it.id == chat.id }.map { it.unread })
            listOf(hTlA, hLstB, hTlB).forEach { it.close() }
        } finally {
            a.shutdown()
            b.shutdown()
        }
    }

    @Test
    fun badReferencesRaiseTheirVariant(): Unit = runBlocking {
        val tmp = tempDir("bad")
        val a = createRoot(tmp, "a")
        try {
            val chats = a.chats()
            val e = raises<ChatException.BadReference> { chats.conversation("not a chat") }
            assertTrue(e.reason, e.reason.contains("not a chat id"))
            raises<ChatException.BadReference> { chats.message("%%%") }
            raises<ChatException.BadReference> { chats.publicChannel().page("zz", 10u) }
            val u = raises<ChatException.UnknownContact> { chats.sendTo(listOf("nobody-by-that-name"), "hi") }
            assertTrue(u.reason, u.reason.contains("nobody-by-that-name"))
            raises<ChatException.Invalid> { chats.sendPublic("") }
            raises<LinkException.BadAddress> { a.links().dialWs("http://example.invalid", 100u) }
            raises<LinkException.BadAddress> { a.links().listenWs("not an address") }
            // Every variant is a ChatException, which Kotlin code can catch as one type.
            assertTrue(raises<ChatException> { chats.conversation("") } is ChatException.BadReference)
        } finally {
            a.shutdown()
        }
        // A stopped root says so in every area; opening twice is refused.
        raises<ChatException.Stopped> { a.chats().list() }
        raises<SetupException.Exists> { LichenBuilder(File(tmp, "a").path).create() }
        raises<SetupException.NoData> { LichenBuilder(File(tmp, "nothing").path).open() }
        raises<SetupException.BadKey> { LichenBuilder(File(tmp, "c").path).importKey("{}", KeyIs.NEW) }
    }
}
