package org.lichen.app.logic

/**
 * How many 120-byte tinySSB packets a text will take, so compose can say "this message
 * needs 4 packets" before a long one is sent over a slow LoRa link.
 *
 * A chain20 entry carries 48 bytes: a length varint, the first bytes of the content, and —
 * when it does not fit — a 20-byte pointer to a side chain of 100-byte chunks (one packet
 * each). The content is the TAV post (a BIPF list: tag, text, voice, timestamp); a private
 * post is that in a private box (nonce, ephemeral key, one 49-byte slot per recipient, MAC).
 * The overheads below are estimates of those encodings, so the hint says "about".
 */
data class SizeHint(val bytes: Int, val packets: Int) {
    /** Only worth showing when the message needs more than one packet. */
    val show: Boolean get() = packets > 1

    fun text(): String = "about $packets packets ($bytes bytes)"

    companion object {
        const val ENTRY_PAYLOAD = 48
        const val POINTER = 20
        const val CHUNK = 100
        const val TAV_OVERHEAD = 14
        const val BOX_FIXED = 24 + 32 + 16 + 3
        const val BOX_SLOT = 49

        /** [recipients] counts every member of a private chat (me included); 0 = public. */
        fun of(text: String, recipients: Int): SizeHint {
            val plain = text.toByteArray(Charsets.UTF_8).size + TAV_OVERHEAD
            val content = if (recipients > 0) plain + BOX_FIXED + BOX_SLOT * recipients else plain
            return SizeHint(content, packets(content))
        }

        fun packets(contentBytes: Int): Int {
            val varint = varintLen(contentBytes)
            if (varint + contentBytes <= ENTRY_PAYLOAD) return 1
            val inEntry = ENTRY_PAYLOAD - varint - POINTER
            val rest = contentBytes - inEntry
            return 1 + (rest + CHUNK - 1) / CHUNK
        }

        private fun varintLen(n: Int): Int = when {
            n < 0x80 -> 1
            n < 0x4000 -> 2
            else -> 3
        }
    }
}
