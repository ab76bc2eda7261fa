package org.lichen.app

import android.Manifest
import android.app.PendingIntent
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.content.pm.PackageManager
import androidx.core.app.NotificationCompat
import androidx.core.app.NotificationManagerCompat
import androidx.core.app.Person
import androidx.core.app.RemoteInput
import androidx.core.content.ContextCompat
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import org.lichen.app.logic.Alert
import org.lichen.app.logic.Notifier

/** NotificationManager behind the logic's [Notifier]: one MessagingStyle conversation per chat. */
class AndroidNotifier(private val context: Context) : Notifier {
    private val nm = NotificationManagerCompat.from(context)
    private val styles = mutableMapOf<String, NotificationCompat.MessagingStyle>()

    override fun show(alert: Alert): Boolean {
        if (ContextCompat.checkSelfPermission(context, Manifest.permission.POST_NOTIFICATIONS) != PackageManager.PERMISSION_GRANTED &&
            android.os.Build.VERSION.SDK_INT >= 33
        ) {
            return true // nothing can be shown; the badge in the chat list still counts it
        }
        try {
            when (alert) {
                is Alert.Message -> message(alert)
                is Alert.DongleGone -> simple(alert.name.hashCode(), "${alert.name} is gone", "Not connected for ${alert.minutes} minutes; messages wait on this phone.")
                is Alert.DongleFull -> simple(alert.name.hashCode() + 1, "${alert.name} is full", "It cannot take a new contact's feed; see the dongle screen.")
                is Alert.ForkDetected -> simple(3, "Your identity is used on another device", "Its feed forked at entry ${alert.seq}: stop using it on one device.")
                is Alert.KeyRecovered -> simple(4, "Your history is back", "${alert.held} of your posts were recovered; you can write again.")
                is Alert.Warning -> simple(5, "Lichen", alert.text)
            }
        } catch (e: SecurityException) {
            return true
        }
        return true
    }

    private fun message(m: Alert.Message) {
        val me = Person.Builder().setName("me").build()
        val style = styles.getOrPut(m.chatId) { NotificationCompat.MessagingStyle(me) }
        style.addMessage(m.text, System.currentTimeMillis(), Person.Builder().setName(m.sender).build())
        val id = m.chatId.hashCode()
        val reply = NotificationCompat.Action.Builder(
            R.drawable.ic_stat, context.getString(R.string.action_reply),
            action(NotificationActionReceiver.REPLY, m.chatId, id, mutable = true),
        ).addRemoteInput(RemoteInput.Builder(NotificationActionReceiver.KEY_TEXT).build()).build()
        val read = NotificationCompat.Action.Builder(
            R.drawable.ic_stat, context.getString(R.string.action_mark_read),
            action(NotificationActionReceiver.MARK_READ, m.chatId, id, mutable = false),
        ).build()
        val open = PendingIntent.getActivity(
            context, id,
            Intent(context, MainActivity::class.java).putExtra(MainActivity.EXTRA_CHAT, m.chatId),
            PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT,
        )
        val n = NotificationCompat.Builder(context, LichenApp.CH_MESSAGES)
            .setSmallIcon(R.drawable.ic_stat)
            .setStyle(style)
            .setCategory(NotificationCompat.CATEGORY_MESSAGE)
            .setContentIntent(open)
            .setAutoCancel(true)
            .addAction(reply)
            .addAction(read)
            .build()
        nm.notify(TAG_CHAT, id, n)
    }

    private fun action(what: String, chatId: String, id: Int, mutable: Boolean): PendingIntent =
        PendingIntent.getBroadcast(
            context, id * 2 + if (what == NotificationActionReceiver.REPLY) 0 else 1,
            Intent(context, NotificationActionReceiver::class.java).setAction(what).putExtra(MainActivity.EXTRA_CHAT, chatId),
            PendingIntent.FLAG_UPDATE_CURRENT or if (mutable) PendingIntent.FLAG_MUTABLE else PendingIntent.FLAG_IMMUTABLE,
        )

    private fun simple(id: Int, title: String, text: String) {
        nm.notify(
            TAG_ALERT, id,
            NotificationCompat.Builder(context, LichenApp.CH_ALERTS)
                .setSmallIcon(R.drawable.ic_stat).setContentTitle(title).setContentText(text)
                .setStyle(NotificationCompat.BigTextStyle().bigText(text)).build(),
        )
    }

    override fun clearChat(chatId: String) {
        styles.remove(chatId)
        nm.cancel(TAG_CHAT, chatId.hashCode())
    }

    companion object {
        const val TAG_CHAT = "chat"
        const val TAG_ALERT = "alert"
    }
}

/** Reply and mark-read from a message notification, through the service's root. */
class NotificationActionReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        val chatId = intent.getStringExtra(MainActivity.EXTRA_CHAT) ?: return
        val root = LichenService.root.value ?: return
        val text = RemoteInput.getResultsFromIntent(intent)?.getCharSequence(KEY_TEXT)?.toString()
        val done = goAsync()
        CoroutineScope(Dispatchers.IO).launch {
            try {
                val conv = root.chats().conversation(chatId)
                if (intent.action == REPLY && !text.isNullOrBlank()) conv.send(text)
                conv.markRead()
                AndroidNotifier(context).clearChat(chatId)
            } catch (_: Exception) {
            } finally {
                done.finish()
            }
        }
    }

    companion object {
        const val REPLY = "org.lichen.app.REPLY"
        const val MARK_READ = "org.lichen.app.MARK_READ"
        const val KEY_TEXT = "text"
    }
}
