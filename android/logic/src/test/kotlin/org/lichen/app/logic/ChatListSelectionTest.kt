package org.lichen.app.logic

import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertNotEquals
import org.junit.Test

class ChatListSelectionTest {
    @Test
    fun theSelectionStaysOnTheSameChatWhenTheListReorders() = runBlocking {
        val root = createRoot(tempDir("sel"))
        try {
            val vm = ChatListViewModel(root.chats())
            vm.start()
            val first = waitFor("two chats") { vm.state.value.rows.takeIf { it.size == 2 } }
            val lower = first[1]
            vm.select(lower.id)
            assertEquals(1, vm.state.value.selectedIndex)
            // A message in the lower chat moves it to the top.
            root.chats().conversation(lower.id).send("to the top")
            val moved = waitFor("the reorder") {
                vm.state.value.takeIf { it.rows.first().id == lower.id }
            }
            assertEquals(lower.id, moved.selectedId)
            assertEquals(0, moved.selectedIndex)
            assertNotEquals(lower.id, moved.rows[1].id)
            assertEquals("to the top", moved.rows[0].preview)
            vm.close()
        } finally {
            root.shutdown()
        }
    }

    @Test
    fun aChatThatGoesAwayDropsTheSelectionAndBadDiffsAreRefused() {
        val items = mutableListOf<org.lichen.ChatListItem>()
        val x = item("x")
        val y = item("y")
        assertEquals(true, Diffs.chatList(items, listOf(org.lichen.ChatListDiff.Reset(listOf(x, y)))))
        // An index past the end leaves the copy as it was.
        assertEquals(false, Diffs.chatList(items, listOf(org.lichen.ChatListDiff.Remove(0u), org.lichen.ChatListDiff.Set(5u, x))))
        assertEquals(listOf(x, y), items)
        assertNull(ChatRow.badge(0))
        assertEquals("99+", ChatRow.badge(150))
    }

    private fun item(id: String) = org.lichen.ChatListItem(
        id = id, kind = org.lichen.ChatKind.GROUP, title = id, members = emptyList(),
        unread = 0u, total = 0u, lastTimestamp = 0, preview = null,
    )
}
