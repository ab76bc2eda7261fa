package org.lichen.app.logic

import org.lichen.ChatListDiff
import org.lichen.ChatListItem
import org.lichen.ChatMessage
import org.lichen.TimelineDiff

/**
 * Applies the bindings' diffs to a list, in order, as the stream defines them (a first
 * Reset, then changes). An index out of range means the stream and this copy disagree: the
 * copy is left as it was and false is returned, so the caller resubscribes for a fresh Reset
 * instead of showing a wrong list or crashing.
 */
object Diffs {
    fun chatList(items: MutableList<ChatListItem>, diffs: List<ChatListDiff>): Boolean = edit(items) { copy ->
        diffs.all { d ->
            when (d) {
                is ChatListDiff.Reset -> reset(copy, d.values)
                is ChatListDiff.Insert -> insert(copy, d.index, d.value)
                is ChatListDiff.Set -> set(copy, d.index, d.value)
                is ChatListDiff.Remove -> remove(copy, d.index)
            }
        }
    }

    fun timeline(items: MutableList<ChatMessage>, diffs: List<TimelineDiff>): Boolean = edit(items) { copy ->
        diffs.all { d ->
            when (d) {
                is TimelineDiff.Reset -> reset(copy, d.values)
                is TimelineDiff.Insert -> insert(copy, d.index, d.value)
                is TimelineDiff.Set -> set(copy, d.index, d.value)
                is TimelineDiff.Remove -> remove(copy, d.index)
                is TimelineDiff.PushFront -> copy.addAll(0, d.values).let { true }
                is TimelineDiff.Append -> copy.addAll(d.values).let { true }
            }
        }
    }

    /** Applies [change] to a copy and keeps it only if every step fitted. */
    private inline fun <T> edit(items: MutableList<T>, change: (MutableList<T>) -> Boolean): Boolean {
        val copy = items.toMutableList()
        if (!change(copy)) return false
        items.clear()
        items.addAll(copy)
        return true
    }

    private fun <T> reset(copy: MutableList<T>, values: List<T>): Boolean {
        copy.clear()
        copy.addAll(values)
        return true
    }

    private fun <T> insert(copy: MutableList<T>, index: UInt, value: T): Boolean {
        val i = index.toInt()
        if (index > Int.MAX_VALUE.toUInt() || i > copy.size) return false
        copy.add(i, value)
        return true
    }

    private fun <T> set(copy: MutableList<T>, index: UInt, value: T): Boolean {
        val i = index.toInt()
        if (index > Int.MAX_VALUE.toUInt() || i >= copy.size) return false
        copy[i] = value
        return true
    }

    private fun <T> remove(copy: MutableList<T>, index: UInt): Boolean {
        val i = index.toInt()
        if (index > Int.MAX_VALUE.toUInt() || i >= copy.size) return false
        copy.removeAt(i)
        return true
    }
}
