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
    fun chatList(items: MutableList<ChatListItem>, diffs: List<ChatListDiff>): Boolean {
        val copy = items.toMutableList()
        for (d in diffs) {
            when (d) {
                is ChatListDiff.Reset -> { copy.clear(); copy.addAll(d.values) }
                is ChatListDiff.Insert -> {
                    val i = d.index.toInt()
                    if (i > copy.size) return false
                    copy.add(i, d.value)
                }
                is ChatListDiff.Set -> {
                    val i = d.index.toInt()
                    if (i >= copy.size) return false
                    copy[i] = d.value
                }
                is ChatListDiff.Remove -> {
                    val i = d.index.toInt()
                    if (i >= copy.size) return false
                    copy.removeAt(i)
                }
            }
        }
        items.clear()
        items.addAll(copy)
        return true
    }

    fun timeline(items: MutableList<ChatMessage>, diffs: List<TimelineDiff>): Boolean {
        val copy = items.toMutableList()
        for (d in diffs) {
            when (d) {
                is TimelineDiff.Reset -> { copy.clear(); copy.addAll(d.values) }
                is TimelineDiff.Insert -> {
                    val i = d.index.toInt()
                    if (i > copy.size) return false
                    copy.add(i, d.value)
                }
                is TimelineDiff.Set -> {
                    val i = d.index.toInt()
                    if (i >= copy.size) return false
                    copy[i] = d.value
                }
                is TimelineDiff.Remove -> {
                    val i = d.index.toInt()
                    if (i >= copy.size) return false
                    copy.removeAt(i)
                }
                is TimelineDiff.PushFront -> copy.addAll(0, d.values)
                is TimelineDiff.Append -> copy.addAll(d.values)
            }
        }
        items.clear()
        items.addAll(copy)
        return true
    }
}
